// The audit log: one append-only row per event of every job, hash-chained so that a changed, removed or
// inserted row is found by re-walking the chain.
import { createHash } from 'node:crypto';
import { newEventId } from './ids';

/** `deletes`: one run of a table's delete check, with its figures (`domain/deletes.ts`). */
export const EVENT_TYPES = ['start', 'retry', 'success', 'failure', 'skipped', 'alert', 'deletes'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const PIPELINES = ['historical', 'incremental'] as const;
export type PipelineName = (typeof PIPELINES)[number];

export type AuditStatus = 'RUNNING' | 'RETRYING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'ALERTED';

export interface AuditEvent {
  readonly eventId: string;
  readonly jobId: string;
  readonly executionId: string;
  readonly pipelineName: PipelineName;
  readonly eventType: EventType;
  readonly status: AuditStatus;
  readonly sourceSystem: string;
  readonly targetSystem: string;
  readonly sourceTable: string | null;
  readonly targetTable: string | null;
  /** Cursor-column bounds of the window, as text; null for a whole-table load. */
  readonly windowStart: string | null;
  readonly windowEnd: string | null;
  readonly recordCountBefore: number | null;
  readonly rowsExported: number | null;
  readonly files: number | null;
  readonly bytes: number | null;
  readonly rowsParsed: number | null;
  readonly rowsLoaded: number | null;
  readonly recordCountAfter: number | null;
  readonly countMatch: boolean | null;
  readonly jobStartTime: string;
  readonly jobEndTime: string | null;
  readonly durationMs: number | null;
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  readonly retryCount: number;
  readonly retryStatus: string | null;
  readonly alertTriggered: boolean;
  readonly prevHash: string | null;
  readonly rowHash: string;
  readonly createdAt: string;
}

type ColumnKind = 'string' | 'integer' | 'boolean' | 'timestamp';

/** The audit table's columns in order, with the event field each holds. */
export const AUDIT_COLUMNS: readonly { column: string; field: keyof AuditEvent; kind: ColumnKind }[] = [
  { column: 'EVENT_ID', field: 'eventId', kind: 'string' },
  { column: 'JOB_ID', field: 'jobId', kind: 'string' },
  { column: 'EXECUTION_ID', field: 'executionId', kind: 'string' },
  { column: 'PIPELINE_NAME', field: 'pipelineName', kind: 'string' },
  { column: 'EVENT_TYPE', field: 'eventType', kind: 'string' },
  { column: 'STATUS', field: 'status', kind: 'string' },
  { column: 'SOURCE_SYSTEM', field: 'sourceSystem', kind: 'string' },
  { column: 'TARGET_SYSTEM', field: 'targetSystem', kind: 'string' },
  { column: 'SOURCE_TABLE', field: 'sourceTable', kind: 'string' },
  { column: 'TARGET_TABLE', field: 'targetTable', kind: 'string' },
  { column: 'WINDOW_START', field: 'windowStart', kind: 'string' },
  { column: 'WINDOW_END', field: 'windowEnd', kind: 'string' },
  { column: 'RECORD_COUNT_BEFORE', field: 'recordCountBefore', kind: 'integer' },
  { column: 'ROWS_EXPORTED', field: 'rowsExported', kind: 'integer' },
  { column: 'FILES', field: 'files', kind: 'integer' },
  { column: 'BYTES', field: 'bytes', kind: 'integer' },
  { column: 'ROWS_PARSED', field: 'rowsParsed', kind: 'integer' },
  { column: 'ROWS_LOADED', field: 'rowsLoaded', kind: 'integer' },
  { column: 'RECORD_COUNT_AFTER', field: 'recordCountAfter', kind: 'integer' },
  { column: 'COUNT_MATCH', field: 'countMatch', kind: 'boolean' },
  { column: 'JOB_START_TIME', field: 'jobStartTime', kind: 'timestamp' },
  { column: 'JOB_END_TIME', field: 'jobEndTime', kind: 'timestamp' },
  { column: 'DURATION_MS', field: 'durationMs', kind: 'integer' },
  { column: 'ERROR_TYPE', field: 'errorType', kind: 'string' },
  { column: 'ERROR_MESSAGE', field: 'errorMessage', kind: 'string' },
  { column: 'RETRY_COUNT', field: 'retryCount', kind: 'integer' },
  { column: 'RETRY_STATUS', field: 'retryStatus', kind: 'string' },
  { column: 'ALERT_TRIGGERED', field: 'alertTriggered', kind: 'boolean' },
  { column: 'PREV_HASH', field: 'prevHash', kind: 'string' },
  { column: 'ROW_HASH', field: 'rowHash', kind: 'string' },
  { column: 'CREATED_AT', field: 'createdAt', kind: 'timestamp' },
];

export type AuditEventInput = Omit<AuditEvent, 'eventId' | 'prevHash' | 'rowHash' | 'createdAt'> & {
  readonly eventId?: string;
  readonly createdAt?: string;
};

/** What identifies an event before anything is measured; every count, time and error starts empty. */
export type EventIdentity = Pick<
  AuditEventInput,
  'jobId' | 'executionId' | 'pipelineName' | 'eventType' | 'status' | 'sourceSystem' | 'targetSystem'
> &
  Partial<Pick<AuditEventInput, 'sourceTable' | 'targetTable' | 'windowStart' | 'windowEnd'>> & {
    readonly jobStartTime: string;
  };

export function blankEvent(identity: EventIdentity): AuditEventInput {
  return {
    sourceTable: null,
    targetTable: null,
    windowStart: null,
    windowEnd: null,
    recordCountBefore: null,
    rowsExported: null,
    files: null,
    bytes: null,
    rowsParsed: null,
    rowsLoaded: null,
    recordCountAfter: null,
    countMatch: null,
    jobEndTime: null,
    durationMs: null,
    errorType: null,
    errorMessage: null,
    retryCount: 0,
    retryStatus: null,
    alertTriggered: false,
    ...identity,
  };
}

/** The hash of an event: its content (every column but ROW_HASH) chained to the previous row's hash. */
export function hashEvent(event: Omit<AuditEvent, 'rowHash'>): string {
  const content = AUDIT_COLUMNS.filter((c) => c.field !== 'rowHash').map((c) => [
    c.column,
    event[c.field as keyof typeof event] ?? null,
  ]);
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** Completes an event with its id, creation time and its link in the hash chain. */
export function sealEvent(
  input: AuditEventInput,
  prevHash: string | null,
  now: Date = new Date(),
): AuditEvent {
  const unsealed = {
    ...input,
    eventId: input.eventId ?? newEventId(now.getTime()),
    createdAt: input.createdAt ?? now.toISOString(),
    prevHash,
  };
  return { ...unsealed, rowHash: hashEvent(unsealed) };
}

export type ChainBreak = { index: number; eventId: string; reason: 'content changed' | 'link broken' };

/** Walks events in chain order and names the first row whose hash or link does not hold. */
export function verifyChain(events: readonly AuditEvent[]): ChainBreak | null {
  let prev: string | null = events[0]?.prevHash ?? null;
  for (const [index, event] of events.entries()) {
    if (event.prevHash !== prev) return { index, eventId: event.eventId, reason: 'link broken' };
    const { rowHash, ...rest } = event;
    if (hashEvent(rest) !== rowHash) return { index, eventId: event.eventId, reason: 'content changed' };
    prev = rowHash;
  }
  return null;
}

/**
 * Orders events by their links: each after the one whose hash it carries. Ids sort in write order
 * within one process; the links also hold across processes.
 */
export function chainOrder(events: readonly AuditEvent[]): AuditEvent[] {
  const byId = events.slice().sort((a, b) => a.eventId.localeCompare(b.eventId));
  const hashes = new Set(byId.map((e) => e.rowHash));
  const next = new Map<string | null, AuditEvent[]>();
  for (const e of byId) next.set(e.prevHash, [...(next.get(e.prevHash) ?? []), e]);
  const ordered: AuditEvent[] = [];
  const visit = (e: AuditEvent) => {
    ordered.push(e);
    for (const child of next.get(e.rowHash) ?? []) visit(child);
  };
  for (const root of byId.filter((e) => e.prevHash === null || !hashes.has(e.prevHash))) visit(root);
  return ordered;
}

/** The hash of the chain's last row: the one no other row points back to; null for an empty log. */
export function chainTail(events: readonly AuditEvent[]): string | null {
  if (events.length === 0) return null;
  const referenced = new Set(events.map((e) => e.prevHash));
  const tails = events.filter((e) => !referenced.has(e.rowHash));
  const ordered = (tails.length > 0 ? tails : events).slice().sort(oldestFirst);
  return ordered[ordered.length - 1]?.rowHash ?? null;
}

/** The order events were written in: by creation time, then by id (ids sort in write order). */
export function oldestFirst(a: AuditEvent, b: AuditEvent): number {
  return a.createdAt.localeCompare(b.createdAt) || a.eventId.localeCompare(b.eventId);
}
