// One writer per table: an execution holds a table's lease in the warehouse from its first step to its
// audit; another execution that wants the table meanwhile is told who holds it, records so, and waits.
// A lease whose holder has already recorded its result for the table is taken over, not waited out.
import { TableBusyError } from '../domain/errors';
import { appendAudit } from './audit-writer';
import { BEST_EFFORT_MS, tableEventBase, withDeadline } from './common';
import type { TableWork } from './contract';
import type { StepDeps } from './deps';

/** As long as the state machine may run: an execution that crashed cannot block its tables for longer. */
export const LEASE_TTL_MS = 2 * 60 * 60 * 1000;

/**
 * Takes (or, on a retry of the same execution, renews) the table's lease. When another execution holds
 * it, writes a `retry` event naming that execution and throws TableBusyError, which the step's Retry
 * waits out with backoff; once the retries are spent, the Catch records the failure with the same name.
 */
export async function holdTable(
  deps: StepDeps,
  executionId: string,
  work: TableWork,
  attempt: number,
  ttlMs: number = LEASE_TTL_MS,
): Promise<void> {
  const { warehouse } = deps.ports;
  let lease = await warehouse.acquireLease(work.table, executionId, deps.now(), ttlMs);
  if (lease.executionId !== executionId && (await finishedWith(deps, lease.executionId, work.table))) {
    // The holder recorded its result for the table but could not give the lease back (the warehouse was
    // down; its events reached the log only when Plan replayed them). Release it in its name, then
    // compete for the table as usual.
    await warehouse.releaseLease(work.table, lease.executionId);
    lease = await warehouse.acquireLease(work.table, executionId, deps.now(), ttlMs);
  }
  if (lease.executionId === executionId) return;
  const message = `${work.table} is being loaded by execution ${lease.executionId} (lease until ${lease.expiresAt}); this execution waits for it and is refused if it does not finish in time`;
  await appendAudit(deps, [
    {
      ...tableEventBase(deps, executionId, work, 'retry'),
      status: 'RETRYING',
      retryCount: attempt,
      retryStatus: `waiting for ${lease.executionId}`,
      errorType: 'TableBusyError',
      errorMessage: message,
    },
  ]);
  throw new TableBusyError(message);
}

/** Whether an execution's audit log holds its last word on a table: a success, failure or alert. */
async function finishedWith(deps: StepDeps, executionId: string, table: string): Promise<boolean> {
  const events = await deps.ports.warehouse.readAudit({ executionId, table });
  return events.some((e) => FINAL_EVENTS.has(e.eventType));
}

const FINAL_EVENTS = new Set(['success', 'failure', 'alert']);

/**
 * Gives the table up once its result is recorded. Best effort: the event is already written, and a
 * lease left behind expires on its own.
 */
export async function releaseTable(deps: StepDeps, executionId: string, table: string): Promise<void> {
  await withDeadline(deps.ports.warehouse.releaseLease(table, executionId), BEST_EFFORT_MS).catch(
    () => undefined,
  );
}
