// The frame of every step inside the Map: validate the event, record a retry when this is one, then run.
import { auditRetry } from './audit-writer';
import { parseEvent, tableEventBase } from './common';
import { type TableEvent, tableEventSchema } from './contract';
import type { StepDeps } from './deps';

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
    return run(event, deps);
  };
}
