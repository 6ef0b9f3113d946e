// What every step is given besides its event: the configuration, the ports to the outside world and a
// clock. Handlers build it from the Lambda environment; the local runner builds it from its options.
import type { TallyConfig } from '../config';
import type { Source, Stage, Warehouse } from '../ports';

export interface Ports {
  readonly source: Source;
  readonly stage: Stage;
  readonly warehouse: Warehouse;
}

export interface StepDeps {
  readonly config: TallyConfig;
  /** Read lazily: a step that never touches PostgreSQL never opens a connection to it. */
  readonly ports: Ports;
  readonly now: () => Date;
}
