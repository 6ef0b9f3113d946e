// The audit-log writer: seals each event into the hash chain and keeps it in S3 first, then delivers every
// event still undelivered to the audit table in chain order, once, and mirrors it. Writers in separate
// processes agree through one object, the chain's tail, changed only by conditional writes.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepDeps } from '../deps';
import { type AuditEvent, type AuditEventInput, chainTail, sealEvent } from '../domain/audit';
import { anchorEntry } from '../domain/checkpoint';
import { StageUnavailableError, TallyError } from '../domain/errors';
import { retryEvent } from '../domain/job-events';
import { currentStepClock } from '../step-clock';
import { anchorDelivered } from './anchor';
import { readTail, type Tail, type TailDeps, tailKey, updateTail } from './tail';

/**
 * How long a delivery claim holds: well above one delivery's insert and mirror writes, so that only a
 * writer that died mid-delivery has its claim taken over, and the claimant renews it just before inserting.
 */
const CLAIM_MS = 60_000;
/** How often a writer waiting for another's delivery looks at the tail again. */
const POLL_MS = 100;

/** Chains writes from one process one after another: they would only conflict with each other at the tail. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Seals and keeps the events, then sees them delivered with every event still undelivered from earlier
 * writes. When the warehouse cannot take them the error propagates (a transient one makes the step
 * retry), and the events stay in the tail until a later write delivers them.
 */
export function appendAudit(deps: StepDeps, inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
  const next = queue.then(() => write(deps, inputs));
  queue = next.catch(() => undefined);
  return next;
}

/** Delivers the events earlier writes left undelivered, writing nothing new. */
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
  const { sealed, due } = await append(deps, inputs);
  if (due.size > 0) await deliver(deps, due);
  // A table's run that ends is anchored at once; otherwise every `checkpointEvery` events.
  await anchorDelivered(deps, { endsRun: sealed.some((e) => RUN_ENDS.has(e.eventType)) });
  return sealed;
}

/** The events after which a table's run writes nothing more: its checkpoint need not wait for more. */
const RUN_ENDS: ReadonlySet<AuditEvent['eventType']> = new Set(['success', 'failure', 'skipped', 'alert']);

/**
 * Seals the events after the tail's last one and writes them into the tail, in one conditional write:
 * a writer that lost the race to another reads the new tail and seals again after it. Asks nothing of the
 * warehouse (which may be what is failing) unless there is no tail yet: only before the very first write
 * is the table asked where its chain ends. Returns the ids of every event now undelivered.
 */
async function append(
  deps: StepDeps,
  inputs: readonly AuditEventInput[],
): Promise<{ sealed: AuditEvent[]; due: Set<string> }> {
  return updateTail(deps, 'appending audit events', async (tail) => {
    const undelivered = tail?.undelivered ?? [];
    if (inputs.length === 0) return { result: { sealed: [], due: idsOf(undelivered) } };
    let prevHash = tail ? tail.rowHash : await tableTail(deps);
    const sealed: AuditEvent[] = [];
    for (const input of inputs) {
      const event = sealEvent(input, prevHash, deps.now());
      sealed.push(event);
      prevHash = event.rowHash;
    }
    const last = sealed.at(-1) as AuditEvent;
    const next: Tail = {
      eventId: last.eventId,
      rowHash: last.rowHash,
      undelivered: [...undelivered, ...sealed],
      delivery: tail?.delivery ?? null,
      unanchored: [...(tail?.unanchored ?? []), ...sealed.map(anchorEntry)],
      ...(tail?.checkpoint ? { checkpoint: tail.checkpoint } : {}),
    };
    return { next, result: { sealed, due: idsOf(next.undelivered) } };
  });
}

/**
 * Returns once none of `due` is undelivered: delivered by this writer, which claims the delivery of every
 * undelivered event when no other writer holds it, or by the writer holding it. A claim not given back in
 * time (its writer died) is taken over; the table is then asked which events it already holds.
 */
async function deliver(deps: StepDeps, due: ReadonlySet<string>): Promise<void> {
  const me = randomUUID();
  // Long enough for a claim to run out, but never past the step's deadline: a step that fails by name
  // is retried, one that Lambda ends is not.
  const waitUntil = Math.min(
    Date.now() + CLAIM_MS + POLL_MS,
    currentStepClock()?.deadline ?? Number.POSITIVE_INFINITY,
  );
  for (;;) {
    const claim = await updateTail<'done' | 'busy' | readonly AuditEvent[]>(
      deps,
      'claiming the delivery of audit events',
      async (tail) => {
        const pending = tail?.undelivered.filter((e) => due.has(e.eventId)) ?? [];
        if (!tail || pending.length === 0) return { result: 'done' as const };
        const holder = tail.delivery;
        if (holder && holder.by !== me && holder.until > Date.now()) return { result: 'busy' as const };
        const next = { ...tail, delivery: { by: me, until: Date.now() + CLAIM_MS } };
        return { next, result: next.undelivered };
      },
    );
    if (claim === 'done') return;
    if (claim === 'busy') {
      if (Date.now() > waitUntil) {
        throw new StageUnavailableError(
          `another audit writer was still delivering the audit chain's undelivered events (${tailKey(deps)} in bucket ${deps.ports.stage.bucket}) when this one had to stop waiting; its claim runs out within ${CLAIM_MS / 1000} s, and the step will retry`,
        );
      }
      await sleep(POLL_MS / 2 + Math.random() * POLL_MS);
      continue;
    }
    await deliverClaimed(deps, me, claim);
  }
}

/** Inserts the events the table lacks, mirrors them all, then takes them out of the tail with the claim. */
async function deliverClaimed(deps: StepDeps, me: string, events: readonly AuditEvent[]): Promise<void> {
  const { stage, audit } = deps.ports;
  try {
    // A writer that died after its insert and before taking its events out of the tail left events the
    // table already holds: they are skipped by their id.
    const known = await deliveredIds(deps, events);
    // Still ours, for another full claim: the insert below is the one step two writers must not share.
    const held = await updateTail(deps, 'renewing the audit delivery claim', async (tail) => {
      if (tail?.delivery?.by !== me) return { result: false };
      return { next: { ...tail, delivery: { by: me, until: Date.now() + CLAIM_MS } }, result: true };
    });
    if (!held) return;
    await audit.insert(events.filter((e) => !known.has(e.eventId)));
    // Written once: a delivery repeated after a crash finds the same sealed event already mirrored.
    for (const event of events) await stage.keepJson(auditKey(deps, event), event);
  } catch (err) {
    // Give the claim back, events and all, so that the next writer tries at once (skipping what this one
    // inserted); should that fail too, the claim runs out by itself.
    await settle(deps, me, new Set()).catch(() => undefined);
    throw err;
  }
  await settle(deps, me, idsOf(events));
}

/** Takes `delivered` out of the tail and gives back this writer's claim, if it still holds it. */
function settle(deps: StepDeps, me: string, delivered: ReadonlySet<string>): Promise<void> {
  return updateTail(deps, 'marking audit events delivered', async (tail) => {
    if (!tail) return { result: undefined };
    const undelivered = tail.undelivered.filter((e) => !delivered.has(e.eventId));
    const mine = tail.delivery?.by === me;
    if (!mine && undelivered.length === tail.undelivered.length) return { result: undefined };
    return { next: { ...tail, undelivered, delivery: mine ? null : tail.delivery }, result: undefined };
  });
}

function idsOf(events: readonly AuditEvent[]): Set<string> {
  return new Set(events.map((e) => e.eventId));
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
  const { tail } = await readTail(deps);
  for (const event of tail?.undelivered ?? []) {
    if (event.jobId === jobId && event.sourceTable === table && !ids.has(event.eventId)) events.push(event);
  }
  return events.sort((a, b) => a.eventId.localeCompare(b.eventId));
}

/** Where a delivered event's JSON copy lives: grouped by job and table, named by its (time-ordered) id. */
export function auditKey(
  deps: TailDeps,
  event: Pick<AuditEvent, 'jobId' | 'sourceTable' | 'eventId'>,
): string {
  return `${auditFolder(deps, event.jobId, event.sourceTable)}${event.eventId}.json`;
}

/** The folder of one table's events in a job; events of no table (a failed Plan) go under `-`. */
function auditFolder(deps: TailDeps, jobId: string, table: string | null): string {
  return `${deps.config.s3.prefix}/audit/${jobId}/${table === null ? '-' : encodeURIComponent(table)}/`;
}
