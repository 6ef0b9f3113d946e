// The ports a step uses, opened on first use and kept for the warm invocations that follow; closed when
// a connection-level failure makes them suspect, or when the runner is done.
import type { TallyConfig } from '../config';
import type { AuditTable, LeaseStore, Ports, Source, Stage, Warehouse, WarehousePorts } from '../ports';

export interface PortFactories {
  source(config: TallyConfig): Source;
  stage(config: TallyConfig): Stage;
  warehouse(config: TallyConfig): WarehousePorts;
}

export class LazyPorts implements Ports {
  private opened: { source?: Source; stage?: Stage; warehouse?: WarehousePorts } = {};

  constructor(
    private readonly config: TallyConfig,
    private readonly factories: PortFactories,
  ) {}

  get source(): Source {
    this.opened.source ??= this.factories.source(this.config);
    return this.opened.source;
  }

  get stage(): Stage {
    this.opened.stage ??= this.factories.stage(this.config);
    return this.opened.stage;
  }

  get warehouse(): Warehouse {
    return this.warehousePorts().warehouse;
  }

  get audit(): AuditTable {
    return this.warehousePorts().audit;
  }

  get leases(): LeaseStore {
    return this.warehousePorts().leases;
  }

  private warehousePorts(): WarehousePorts {
    this.opened.warehouse ??= this.factories.warehouse(this.config);
    return this.opened.warehouse;
  }

  /** Closes what was opened; the next use opens afresh. */
  async close(): Promise<void> {
    const { source, warehouse } = this.opened;
    this.opened = {};
    await Promise.allSettled([source?.close(), warehouse?.close()]);
  }
}
