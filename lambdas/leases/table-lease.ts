// One writer per table: an execution holds a table's lease from its first step to its audit; another
// execution that wants the table meanwhile is told who holds it, records so, and waits. A lease whose
// holder has already recorded its result for the table is taken over, not waited out.
import { appendAudit } from '../audit/writer';
import { bestEffort } from '../best-effort';
import type { StepDeps } from '../deps';
import type { AuditEventInput } from '../domain/audit';
import { TableBusyError } from '../domain/errors';
import { hasFinished } from '../domain/history';
import { retryEvent } from '../domain/job-events';

/** As long as the state machine may run: an execution that crashed cannot block its tables for longer. */
export const LEASE_TTL_MS = 2 * 60 * 60 * 1000;

/** The table a lease is taken for, and the event base its `retry` event is written from. */
export interface LeaseRequest {
  readonly table: string;
  readonly executionId: string;
  /** The state asking, and its attempt (0 on the first). */
  readonly state: string;
  readonly attempt: number;
  /** The table's event with nothing measured, as the step would write it. */
  readonly event: AuditEventInput;
}

/**
 * Takes (or, on a retry of the same execution, renews) the table's lease. When another execution holds
 * it, writes a `retry` event naming that execution and throws TableBusyError, which the step's Retry
 * waits out with backoff; once the retries are spent, the Catch records the table as skipped (AuditFailure).
 */
export async function holdTable(
  deps: StepDeps,
  request: LeaseRequest,
  ttlMs: number = LEASE_TTL_MS,
): Promise<void> {
  const { leases, audit } = deps.ports;
  const { table, executionId } = request;
  let lease = await leases.acquire(table, executionId, deps.now(), ttlMs);
  if (
    lease.executionId !== executionId &&
    hasFinished(await audit.read({ executionId: lease.executionId, table }), lease.executionId, table)
  ) {
    // The holder recorded its result for the table but could not give the lease back (the warehouse was
    // down; its events reached the log only when a later write replayed them). Release it in its name,
    // then compete for the table as usual.
    await leases.release(table, lease.executionId);
    lease = await leases.acquire(table, executionId, deps.now(), ttlMs);
  }
  if (lease.executionId === executionId) return;
  const message = `${table} is being loaded by execution ${lease.executionId} (lease until ${lease.expiresAt}); this execution waits for it and is refused if it does not finish in time`;
  await appendAudit(deps, [
    {
      ...retryEvent(request.event, request.state, request.attempt),
      retryStatus: `waiting for ${lease.executionId}`,
      errorType: 'TableBusyError',
      errorMessage: message,
    },
  ]);
  throw new TableBusyError(message);
}

/**
 * Gives the table up once its result is recorded. Best effort: the event is already written, and a
 * lease left behind expires on its own.
 */
export async function releaseTable(deps: StepDeps, executionId: string, table: string): Promise<void> {
  await bestEffort(deps.ports.leases.release(table, executionId), undefined);
}
