// The frame of every step inside the Map: validate the event, record a retry when this is one, hold the
// table's lease, then run.
import { auditRetry } from './audit-writer';
import { parseEvent, tableEventBase } from './common';
import { type TableEvent, tableEventSchema } from './contract';
import type { StepDeps } from './deps';
import { holdTable } from './lock';

export function tableStep<T>(
  stateName: string,
  run: (event: TableEvent, deps: StepDeps) => Promise<T>,
): (event: unknown, deps: StepDeps) => Promise<T> {
  return async (raw, deps) => {
    const event = parseEvent(tableEventSchema, raw, 'event');
    if (event.attempt > 0) {
      const base = tableEventBase(deps, event.executionId, event.state.work, 'retry');
      await auditRetry(deps, base, stateName, event.attempt);
    }
    // Every step renews the lease, so none runs while another execution loads the table.
    await holdTable(deps, event.executionId, event.state.work, event.attempt);
    return run(event, deps);
  };
}
