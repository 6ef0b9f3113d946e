// What every step and service is given besides its event: the configuration, the ports to the outside
// world, a clock and a logger. Lambda handlers build it from their environment; the local runner from its
// options.
import type { TallyConfig } from './config';
import type { Lineage, Ports } from './ports';

/** Where a step reports what an operator should see; in Lambda, the logger that carries the job and table. */
export interface StepLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface StepDeps {
  readonly config: TallyConfig;
  readonly ports: Ports;
  readonly now: () => Date;
  readonly logger: StepLogger;
  /** Where the steps send OpenLineage run events; none when lineage is not configured. */
  readonly lineage?: Lineage;
}
