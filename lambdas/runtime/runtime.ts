// One Lambda container's runtime: the configuration read at cold start, and the ports built from it
// (with the secrets' credentials) that warm invocations reuse.
import { createHash } from 'node:crypto';
import type { TallyConfig } from '../config';
import type { StepDeps, StepLogger } from '../deps';
import { createLineage } from '../lineage/lineage';
import type { Lineage } from '../ports';
import { applySecrets, type Secrets } from './credentials';
import type { RuntimeSettings } from './env';
import { LazyPorts, type PortFactories } from './lazy-ports';

export class Runtime {
  private current?: { fingerprint: string; config: TallyConfig; ports: LazyPorts };

  private readonly lineage: Lineage | undefined;

  constructor(
    readonly settings: RuntimeSettings,
    private readonly factories: PortFactories,
  ) {
    this.lineage = createLineage(settings.lineage ?? null);
  }

  /** The step's dependencies; rebuilt only when the secrets changed (say, after a rotation). */
  deps(secrets: Secrets, logger: StepLogger): StepDeps {
    const fingerprint = createHash('sha256').update(JSON.stringify(secrets)).digest('hex');
    if (this.current?.fingerprint !== fingerprint) {
      void this.current?.ports.close();
      const config = applySecrets(this.settings.config, secrets);
      this.current = { fingerprint, config, ports: new LazyPorts(config, this.factories) };
    }
    const { config, ports } = this.current;
    return {
      config,
      ports,
      now: () => new Date(),
      logger,
      ...(this.lineage ? { lineage: this.lineage } : {}),
    };
  }

  /** Drops the open connections: after a connection-level failure the next invocation reconnects. */
  async reset(): Promise<void> {
    await this.current?.ports.close();
  }
}
