// Appends events to the audit log: seals each into the hash chain after the table's current tail, mirrors
// it to S3 as JSON first (so an event the warehouse cannot take is still kept), then inserts it.
import { monotonicFactory } from 'ulid';
import { type AuditEvent, type AuditEventInput, sealEvent } from '../domain/audit';
import type { StepDeps } from './deps';

/** Event ids that sort in write order, even for events written within the same millisecond. */
const nextEventId = monotonicFactory();

/** Chains writes from one process one after another, so concurrent tables never fork the chain here. */
let queue: Promise<unknown> = Promise.resolve();

export function appendAudit(deps: StepDeps, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  const next = queue.then(() => write(deps, inputs));
  queue = next.catch(() => undefined);
  return next;
}

async function write(deps: StepDeps, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  const { stage, warehouse } = deps.ports;
  let prevHash = chainTail(await warehouse.readAudit());
  const sealed: AuditEvent[] = [];
  for (const input of inputs) {
    const now = deps.now();
    const event = sealEvent({ eventId: nextEventId(now.getTime()), ...input }, prevHash, now);
    sealed.push(event);
    prevHash = event.rowHash;
  }
  for (const event of sealed) await stage.putJson(auditKey(deps, event), event);
  await warehouse.insertAudit(sealed);
  return sealed;
}

/** Where an event's JSON copy lives: grouped by job, named by its (time-ordered) id. */
export function auditKey(deps: StepDeps, event: Pick<AuditEvent, 'jobId' | 'eventId'>): string {
  return `${deps.config.s3.prefix}/audit/${event.jobId}/${event.eventId}.json`;
}

/** The hash of the chain's last row: the one no other row points back to; null for an empty log. */
export function chainTail(events: readonly AuditEvent[]): string | null {
  if (events.length === 0) return null;
  const referenced = new Set(events.map((e) => e.prevHash));
  const tails = events.filter((e) => !referenced.has(e.rowHash));
  const ordered = (tails.length > 0 ? tails : events)
    .slice()
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.eventId.localeCompare(b.eventId));
  return ordered[ordered.length - 1]?.rowHash ?? null;
}

/** A step that runs again after a failure says so first: RETRY_COUNT is its attempt number. */
export async function auditRetry(
  deps: StepDeps,
  base: AuditEventInput,
  step: string,
  attempt: number,
): Promise<void> {
  await appendAudit(deps, [
    {
      ...base,
      eventType: 'retry',
      status: 'RETRYING',
      retryCount: attempt,
      retryStatus: 'retrying',
      errorMessage: `${step} is running again (attempt ${attempt + 1})`,
    },
  ]);
}
