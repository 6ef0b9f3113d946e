// Checkpoints of the audit chain: write-once objects outside the warehouse that name every event of a
// stretch of the chain by id and hash, so that a table rewritten with freshly computed hashes, or a table
// and mirror changed alike, no longer matches what was anchored. Optionally signed with a key the
// warehouse never sees (HMAC-SHA256).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AUDIT_COLUMNS, type AuditEvent } from './audit';

/** One event as a checkpoint anchors it. */
export interface AnchorEntry {
  readonly eventId: string;
  readonly prevHash: string | null;
  readonly rowHash: string;
  readonly createdAt: string;
  readonly sourceTable: string | null;
}

/** The newest checkpoint, as the chain's tail remembers it and as verification records its progress. */
export interface CheckpointRef {
  readonly seq: number;
  /** The hash of the checkpoint's last event: the chain's head at that checkpoint. */
  readonly headHash: string;
  /** Events anchored by every checkpoint up to and including this one. */
  readonly position: number;
}

export interface Checkpoint {
  readonly version: 1;
  /** 1 for the first checkpoint, then one more each time: the key it is written under. */
  readonly seq: number;
  /** The checkpoint before it; null for the first. */
  readonly previous: CheckpointRef | null;
  /**
   * The hash the first anchored event links to: the previous checkpoint's head, or for the first
   * checkpoint the chain's hash before it (null when the chain starts with it).
   */
  readonly fromHash: string | null;
  /** Events anchored by every checkpoint up to and including this one. */
  readonly position: number;
  /** The events of this stretch, in chain order. */
  readonly events: readonly AnchorEntry[];
  readonly writtenAt: string;
  /** HMAC-SHA256 (hex) of the checkpoint's other fields, with the checkpoint key, when one is configured. */
  readonly hmac?: string;
}

/** A checkpoint's last event: where the chain stood when it was written. */
export function checkpointHead(checkpoint: Checkpoint): AnchorEntry {
  const head = checkpoint.events.at(-1);
  if (head === undefined) throw new Error(`checkpoint ${checkpoint.seq} anchors no event`);
  return head;
}

export function refOf(checkpoint: Checkpoint): CheckpointRef {
  return { seq: checkpoint.seq, headHash: checkpointHead(checkpoint).rowHash, position: checkpoint.position };
}

export function anchorEntry(event: AuditEvent): AnchorEntry {
  return {
    eventId: event.eventId,
    prevHash: event.prevHash,
    rowHash: event.rowHash,
    createdAt: event.createdAt,
    sourceTable: event.sourceTable,
  };
}

/** The next checkpoint after `previous` anchoring `events` (non-empty, in chain order). */
export function buildCheckpoint(
  previous: CheckpointRef | null,
  events: readonly AnchorEntry[],
  writtenAt: Date,
  key?: Buffer,
): Checkpoint {
  const first = events[0];
  if (first === undefined) throw new Error('a checkpoint anchors at least one event');
  const unsigned: Checkpoint = {
    version: 1,
    seq: (previous?.seq ?? 0) + 1,
    previous,
    fromHash: previous?.headHash ?? first.prevHash,
    position: (previous?.position ?? 0) + events.length,
    events,
    writtenAt: writtenAt.toISOString(),
  };
  return key ? { ...unsigned, hmac: signature(unsigned, key) } : unsigned;
}

/** The HMAC of everything in the checkpoint but the HMAC itself, over a canonical JSON form. */
export function signature(checkpoint: Checkpoint, key: Buffer): string {
  const { hmac: _hmac, ...rest } = checkpoint;
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('hex');
}

/** Whether the checkpoint carries a valid HMAC under `key` (compared in constant time). */
export function hasValidSignature(checkpoint: Checkpoint, key: Buffer): boolean {
  if (typeof checkpoint.hmac !== 'string' || !/^[0-9a-f]{64}$/.test(checkpoint.hmac)) return false;
  return timingSafeEqual(Buffer.from(checkpoint.hmac, 'hex'), Buffer.from(signature(checkpoint, key), 'hex'));
}

/**
 * What is wrong with a checkpoint read back as the successor of `previous`; null when nothing is. With
 * `keys` (the current key first, then the keys it replaced), its HMAC must hold under one of them.
 */
export function checkpointProblem(
  checkpoint: Checkpoint,
  seq: number,
  previous: CheckpointRef | null,
  keys: readonly Buffer[] = [],
): string | null {
  if (checkpoint.version !== 1 || !Array.isArray(checkpoint.events) || checkpoint.events.length === 0)
    return `checkpoint ${seq} is not a checkpoint Tally wrote (no version 1, or no events)`;
  if (checkpoint.seq !== seq) return `checkpoint ${seq} says it is checkpoint ${checkpoint.seq}`;
  if (keys.length > 0 && !keys.some((key) => hasValidSignature(checkpoint, key))) {
    const which = keys.length === 1 ? 'the configured key' : `any of the ${keys.length} configured keys`;
    return checkpoint.hmac === undefined
      ? `checkpoint ${seq} carries no HMAC, and a checkpoint key is configured`
      : `checkpoint ${seq}'s HMAC does not match its content under ${which}: it was written or changed without the key`;
  }
  if (previous !== null) {
    if (checkpoint.previous?.seq !== previous.seq || checkpoint.previous.headHash !== previous.headHash)
      return `checkpoint ${seq} does not follow checkpoint ${previous.seq} (its previous head differs)`;
    if (checkpoint.fromHash !== previous.headHash)
      return `checkpoint ${seq} does not start where checkpoint ${previous.seq} ended`;
  }
  const expected = (previous?.position ?? checkpoint.previous?.position ?? 0) + checkpoint.events.length;
  if (checkpoint.position !== expected)
    return `checkpoint ${seq} claims position ${checkpoint.position}, but anchors ${checkpoint.events.length} events after position ${expected - checkpoint.events.length}`;
  let link = checkpoint.fromHash;
  for (const entry of checkpoint.events) {
    if (entry.prevHash !== link) return `checkpoint ${seq}'s events do not link: ${entry.eventId}`;
    link = entry.rowHash;
  }
  return null;
}

/** The audit columns whose values differ between two copies of an event. */
export function differingColumns(a: AuditEvent, b: AuditEvent): string[] {
  return AUDIT_COLUMNS.filter((c) => !sameValue(a[c.field], b[c.field])).map((c) => c.column);
}

function sameValue(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

/** JSON with object keys sorted, so that a signature does not depend on the order fields were written. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
