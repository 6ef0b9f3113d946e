// The audit-log writer: seals each event into the hash chain, keeps its JSON in S3 first as pending, then
// delivers every pending event to the audit table in chain order, once, and marks it delivered.

import type { StepDeps } from '../deps';
import { type AuditEvent, type AuditEventInput, chainOrder, chainTail, sealEvent } from '../domain/audit';
import { TallyError } from '../domain/errors';
import { retryEvent } from '../domain/job-events';

/** Chains writes from one process one after another, so concurrent tables never fork the chain here. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Seals and keeps the events, then delivers them with every event still pending from earlier writes.
 * When the warehouse cannot take them the error propagates (a transient one makes the step retry), and
 * the events stay pending in S3 until a later write delivers them.
 */
export function appendAudit(deps: StepDeps, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  const next = queue.then(() => write(deps, inputs));
  queue = next.catch(() => undefined);
  return next;
}

/** Delivers the events earlier writes left pending, writing nothing new. */
export function replayPendingAudit(deps: StepDeps): Promise<AuditEvent[]> {
  return appendAudit(deps, []);
}

/** A step that runs again after a failure says so first. */
export async function auditRetry(
  deps: StepDeps,
  base: AuditEventInput,
  state: string,
  attempt: number,
): Promise<void> {
  await appendAudit(deps, [retryEvent(base, state, attempt)]);
}

async function write(deps: StepDeps, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  const { stage, audit } = deps.ports;
  const pending = await readPending(deps);
  if (inputs.length === 0 && pending.length === 0) return [];
  // Keep the new events in S3 before asking anything of the warehouse, which may be what is failing: a
  // step stopped at its time limit while the warehouse hangs has then lost nothing. The chain continues
  // from the last event kept; only before the very first write is the table asked where it ends.
  let prevHash =
    pending.at(-1)?.rowHash ??
    (await stage.getJson<{ rowHash: string }>(tailKey(deps)))?.rowHash ??
    (inputs.length > 0 ? await tableTail(deps) : null);
  const sealed: AuditEvent[] = [];
  for (const input of inputs) {
    const event = sealEvent(input, prevHash, deps.now());
    sealed.push(event);
    prevHash = event.rowHash;
  }
  for (const event of sealed) await stage.putJson(pendingKey(deps, event), event);
  const last = sealed.at(-1);
  if (last) await stage.putJson(tailKey(deps), { eventId: last.eventId, rowHash: last.rowHash });
  // A crash between the insert and the marking leaves an event pending that the table already holds:
  // the next delivery skips it by its id.
  const toDeliver = [...pending, ...sealed];
  const known = await deliveredIds(deps, toDeliver);
  await audit.insert(toDeliver.filter((e) => !known.has(e.eventId)));
  for (const event of toDeliver) {
    // Written once: a delivery repeated after a crash finds the same sealed event already mirrored.
    await stage.keepJson(auditKey(deps, event), event);
    await stage.delete([pendingKey(deps, event)]);
  }
  return sealed;
}

/** Ids per read of which events the table already holds: a bounded IN list. */
const ID_BATCH = 500;

/** Which of these events the audit table already holds, asked by id. */
async function deliveredIds(deps: StepDeps, events: readonly AuditEvent[]): Promise<Set<string>> {
  const known = new Set<string>();
  for (let i = 0; i < events.length; i += ID_BATCH) {
    const eventIds = events.slice(i, i + ID_BATCH).map((e) => e.eventId);
    for (const e of await deps.ports.audit.read({ eventIds })) known.add(e.eventId);
  }
  return known;
}

/** Events read to find the chain's end when S3 has no tail: its newest, which end it. */
const TAIL_WINDOW = 100;

/** Where the audit table's chain ends; null when it is empty or, transiently, cannot be read. */
async function tableTail(deps: StepDeps): Promise<string | null> {
  const table = await deps.ports.audit.read({ newest: TAIL_WINDOW }).catch((err: unknown) => {
    if (err instanceof TallyError && !err.transient) throw err;
    return null;
  });
  return table ? chainTail(table) : null;
}

/**
 * Every event of one table's job kept so far, from the S3 copies: those delivered and those still
 * pending. Needs nothing of the warehouse, so a step can see what it already wrote while the warehouse is
 * down, and reads only that table's copies.
 */
export async function keptEvents(deps: StepDeps, jobId: string, table: string): Promise<AuditEvent[]> {
  const { stage } = deps.ports;
  const delivered = await stage.list(auditFolder(deps, jobId, table));
  const events: AuditEvent[] = [];
  for (const key of delivered) {
    const event = await stage.getJson<AuditEvent>(key);
    if (event) events.push(event);
  }
  const ids = new Set(events.map((e) => e.eventId));
  for (const event of await readPending(deps)) {
    if (event.jobId === jobId && event.sourceTable === table && !ids.has(event.eventId)) events.push(event);
  }
  return events.sort((a, b) => a.eventId.localeCompare(b.eventId));
}

/** Events kept but not yet delivered, in chain order. */
async function readPending(deps: StepDeps): Promise<AuditEvent[]> {
  const keys = await deps.ports.stage.list(`${deps.config.s3.prefix}/audit/pending/`);
  const events: AuditEvent[] = [];
  for (const key of keys) {
    const event = await deps.ports.stage.getJson<AuditEvent>(key);
    if (event) events.push(event);
  }
  return chainOrder(events);
}

function pendingKey(deps: StepDeps, event: Pick<AuditEvent, 'eventId'>): string {
  return `${deps.config.s3.prefix}/audit/pending/${event.eventId}.json`;
}

function tailKey(deps: StepDeps): string {
  return `${deps.config.s3.prefix}/audit/tail.json`;
}

/** Where a delivered event's JSON copy lives: grouped by job and table, named by its (time-ordered) id. */
export function auditKey(
  deps: StepDeps,
  event: Pick<AuditEvent, 'jobId' | 'sourceTable' | 'eventId'>,
): string {
  return `${auditFolder(deps, event.jobId, event.sourceTable)}${event.eventId}.json`;
}

/** The folder of one table's events in a job; events of no table (a failed Plan) go under `-`. */
function auditFolder(deps: StepDeps, jobId: string, table: string | null): string {
  return `${deps.config.s3.prefix}/audit/${jobId}/${table === null ? '-' : encodeURIComponent(table)}/`;
}
