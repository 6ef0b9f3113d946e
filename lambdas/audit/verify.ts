// Verifies the audit log: walks the audit table page by page in the log's order and checks each event
// against its own hash, the hash before it, its JSON copy in the S3 mirror, and the checkpoints that
// anchor it outside the warehouse; names the first event that was changed, removed, inserted or reordered.
// It starts from the last checkpoint a verification passed (recorded in S3), so its cost grows with what
// was written since, not with the log's history; `full` walks from the chain's start.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TallyConfig } from '../config';
import { type AuditEvent, hashEvent } from '../domain/audit';
import {
  type AnchorEntry,
  type Checkpoint,
  type CheckpointRef,
  canonicalJson,
  checkpointHead,
  checkpointProblem,
  differingColumns,
  refOf,
} from '../domain/checkpoint';
import { InvalidInputError } from '../domain/errors';
import type { AuditFilter, AuditTable, Stage } from '../ports';
import { checkpointKey, checkpointKeys, readCheckpoint, verifiedKey } from './anchor';
import { readTail, type Tail } from './tail';
import { auditKey } from './writer';

export interface VerifyDeps {
  readonly config: Pick<TallyConfig, 's3' | 'audit'>;
  readonly ports: { readonly audit: AuditTable; readonly stage: Stage };
  readonly now: () => Date;
}

export interface VerifyOptions {
  /** Walk from the chain's first event instead of the last verified checkpoint. */
  readonly full?: boolean;
  /** Start at the newest checkpoint before this instant (ISO 8601), or the chain's start. */
  readonly since?: string;
  /** Only this source table's events (schema.name): their hashes, copies and anchors, not the links. */
  readonly table?: string;
  /** Events read per page. Default 1000. */
  readonly pageSize?: number;
  /** Called after each page. */
  readonly onProgress?: (progress: VerifyProgress) => void;
}

export interface VerifyProgress {
  /** Events checked so far. */
  readonly checked: number;
  /** Creation time of the last event checked. */
  readonly at: string | null;
}

/** How an event breaks the log. */
export type BreakKind = 'changed' | 'removed' | 'inserted' | 'reordered' | 'checkpoint';

/** What found it: the chain's own hashes and links, the S3 mirror's copy, or a checkpoint. */
export type Witness = 'chain' | 'mirror' | 'anchor';

export interface AuditBreak {
  readonly kind: BreakKind;
  /** The event; null only for a checkpoint that is itself wrong. */
  readonly eventId: string | null;
  /** The columns that differ from the mirror's copy or the checkpoint, when it is an event's content. */
  readonly columns: readonly string[];
  readonly witnesses: readonly Witness[];
  /** The checkpoint that anchored the event, when one did. */
  readonly checkpoint: number | null;
  /** One sentence for a person. */
  readonly detail: string;
}

export interface VerifyResult {
  readonly intact: boolean;
  /** Where the walk started: the chain's first event, or just after a checkpoint's head. */
  readonly start: { readonly from: 'genesis' | 'checkpoint'; readonly checkpoint: number | null };
  /** Events checked. */
  readonly checked: number;
  /** Checkpoints compared against the table. */
  readonly checkpoints: number;
  /** The newest checkpoint whose every event was found as anchored (this walk or an earlier one). */
  readonly verifiedCheckpoint: number | null;
  /** The chain's last delivered event as the walk found it. */
  readonly head: { readonly eventId: string; readonly rowHash: string } | null;
  /** Events sealed but not yet in the table (waiting in the chain's tail). */
  readonly pending: number;
  /** Delivered events no checkpoint anchors yet (the tail lists them). */
  readonly unanchored: number;
  /** Whether checkpoints were checked against a configured key. */
  readonly signed: boolean;
  readonly break: AuditBreak | null;
  /** Whether this walk recorded its progress, for the next to start from. */
  readonly recorded: boolean;
  /** What the walk covered: the whole chain, or one table's events without the links between them. */
  readonly scope: VerifyScope;
}

export interface VerifyScope {
  /** The one source table whose events were checked (`table`); null for every event. */
  readonly table: string | null;
  /**
   * Whether each event's PREV_HASH was followed to the ROW_HASH of the event before it. Not with `table`:
   * the event before one is often another table's, which that walk does not read.
   */
  readonly links: boolean;
}

/** The record of the last verified checkpoint, `<prefix>/audit/verified.json`. */
interface VerifiedRecord extends CheckpointRef {
  readonly verifiedAt: string;
  readonly hmac?: string;
}

const DEFAULT_PAGE = 1000;
/** Mirror copies read at once. */
const MIRROR_CONCURRENCY = 16;

/** Thrown inside the walk to stop it at the first break. */
class Broken extends Error {
  constructor(readonly found: AuditBreak) {
    super(found.detail);
  }
}

export async function verifyAuditChain(deps: VerifyDeps, options: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new InvalidInputError('pageSize must be a positive integer');
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since)))
    throw new InvalidInputError(`since must be an ISO 8601 time, got '${options.since}'`);
  const walk = new Walk(deps, options, pageSize, await checkpointKeys(deps.config));
  return walk.run();
}

class Walk {
  private head: string | null = null;
  private checked = 0;
  private lastAt: string | null = null;
  private checkpoints = 0;
  private verified: CheckpointRef | null = null;
  private startInfo: VerifyResult['start'] = { from: 'genesis', checkpoint: null };
  private tail: Tail | null = null;
  private stop: { rowHash: string; eventId: string | null } | null = null;
  private pending = new Map<string, AuditEvent>();
  private anchors!: Anchors;
  private rows: Rows | undefined;
  private readonly narrowed: boolean;

  constructor(
    private readonly deps: VerifyDeps,
    private readonly options: VerifyOptions,
    private readonly pageSize: number,
    /** The current checkpoint key first (it signs the record), then the keys it replaced. */
    private readonly keys: readonly Buffer[],
  ) {
    this.narrowed = options.table !== undefined;
  }

  async run(): Promise<VerifyResult> {
    let found: AuditBreak | null = null;
    try {
      await this.begin();
      await this.walk();
    } catch (err) {
      if (!(err instanceof Broken)) throw err;
      found = err.found;
    }
    const intact = found === null;
    const recorded = intact && !this.narrowed && this.options.since === undefined && (await this.record());
    return {
      intact,
      start: this.startInfo,
      checked: this.checked,
      checkpoints: this.checkpoints,
      verifiedCheckpoint: this.verified?.seq ?? null,
      head:
        this.stop && this.stop.eventId !== null
          ? { eventId: this.stop.eventId, rowHash: this.stop.rowHash }
          : null,
      pending: this.tail?.undelivered.length ?? 0,
      unanchored: this.anchors?.unanchoredDelivered ?? 0,
      signed: this.keys.length > 0,
      break: found,
      recorded,
      scope: { table: this.options.table ?? null, links: !this.narrowed },
    };
  }

  /** Reads the tail, decides where to start, and opens the pages and the anchors from there. */
  private async begin(): Promise<void> {
    const { tail } = await readTail(this.deps);
    this.tail = tail;
    for (const e of tail?.undelivered ?? []) this.pending.set(e.eventId, e);
    const lastSeq = tail?.checkpoint?.seq ?? 0;
    // The last delivered event as of now: events written while the walk runs are left to the next.
    const firstPending = tail?.undelivered[0];
    if (tail) {
      const rowHash = firstPending ? firstPending.prevHash : tail.rowHash;
      if (rowHash !== null) {
        const entry = (tail.unanchored ?? []).find((e) => e.rowHash === rowHash);
        this.stop = { rowHash, eventId: firstPending ? (entry?.eventId ?? null) : tail.eventId };
      }
    }
    const start = await this.startCheckpoint(lastSeq);
    const filter: AuditFilter =
      this.options.table !== undefined ? { sourceTables: [this.options.table] } : {};
    if (this.narrowed) await this.locateStop();
    if (start === null) {
      this.rows = new Rows(this.deps.ports.audit, filter, this.pageSize, null, this.copyOf);
      this.anchors = new Anchors(this, 1, lastSeq, null, tail, this.options.table);
      return;
    }
    const head = checkpointHead(start);
    this.startInfo = { from: 'checkpoint', checkpoint: start.seq };
    this.verified = refOf(start);
    this.checkpoints++;
    await this.checkStartHead(start, head);
    this.head = head.rowHash;
    this.lastAt = head.createdAt;
    this.rows = new Rows(
      this.deps.ports.audit,
      filter,
      this.pageSize,
      { createdAt: head.createdAt, eventId: head.eventId },
      this.copyOf,
    );
    this.anchors = new Anchors(this, start.seq + 1, lastSeq, refOf(start), tail, this.options.table);
    this.anchors.active = true;
  }

  /** The checkpoint to start after: none with `full`, the newest before `since`, else the last verified. */
  private async startCheckpoint(lastSeq: number): Promise<Checkpoint | null> {
    if (this.options.full || lastSeq === 0) return null;
    if (this.options.since !== undefined)
      return this.checkpointBefore(Date.parse(this.options.since), lastSeq);
    const record = await this.deps.ports.stage.getJson<VerifiedRecord>(verifiedKey(this.deps));
    if (record === null) return null;
    if (this.keys.length > 0 && !this.validRecord(record)) {
      this.fail({
        kind: 'checkpoint',
        eventId: null,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: record.seq ?? null,
        detail: `the record of the last verification (${verifiedKey(this.deps)}) is not signed with the configured checkpoint key: run tally audit verify --full`,
      });
    }
    const checkpoint = await this.loadCheckpoint(record.seq, null);
    if (checkpointHead(checkpoint).rowHash !== record.headHash) {
      this.fail({
        kind: 'checkpoint',
        eventId: null,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: record.seq,
        detail: `the record of the last verification names checkpoint ${record.seq} with another head hash than the checkpoint holds: run tally audit verify --full`,
      });
    }
    return checkpoint;
  }

  /** The newest checkpoint whose head was created before `at`: a binary search over their numbers. */
  private async checkpointBefore(at: number, lastSeq: number): Promise<Checkpoint | null> {
    let lo = 1;
    let hi = lastSeq;
    let best: Checkpoint | null = null;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const checkpoint = await this.loadCheckpoint(mid, null);
      if (Date.parse(checkpointHead(checkpoint).createdAt) < at) {
        best = checkpoint;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /** The starting checkpoint's head must still be in the table as it was anchored. */
  private async checkStartHead(checkpoint: Checkpoint, head: AnchorEntry): Promise<void> {
    const [row] = await this.deps.ports.audit.read({ eventIds: [head.eventId] });
    if (row === undefined) {
      this.fail({
        kind: 'removed',
        eventId: head.eventId,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: checkpoint.seq,
        detail: `event ${head.eventId}, the last event checkpoint ${checkpoint.seq} anchors, is not in the audit table`,
      });
    }
    if (this.narrowed && row.sourceTable !== this.options.table) return;
    await this.checkContent(row, head, checkpoint.seq, await this.mirrorOf(row));
  }

  /** Loads checkpoint `seq`, refusing one that is missing or not what Tally wrote after `previous`. */
  async loadCheckpoint(seq: number, previous: CheckpointRef | null): Promise<Checkpoint> {
    const checkpoint = await readCheckpoint(this.deps, seq);
    const problem =
      checkpoint === null
        ? `checkpoint ${seq} (${checkpointKey(this.deps, seq)}) is missing, though the chain's tail records checkpoints up to ${this.tail?.checkpoint?.seq ?? 0}`
        : checkpointProblem(checkpoint, seq, previous, this.keys);
    if (problem !== null || checkpoint === null) {
      this.fail({
        kind: 'checkpoint',
        eventId: null,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: seq,
        detail: problem ?? `checkpoint ${seq} is missing`,
      });
    }
    return checkpoint;
  }

  checkpointVerified(checkpoint: Checkpoint): void {
    this.checkpoints++;
    this.verified = refOf(checkpoint);
  }

  private get pages(): Rows {
    if (!this.rows) throw new Error('the walk reads pages only once it has begun');
    return this.rows;
  }

  private async walk(): Promise<void> {
    if (this.stop === null) {
      // Nothing delivered yet: an empty table is intact, a table with events was written around Tally.
      const first = await this.pages.peek();
      if (first) this.inserted(first, await this.mirrorOf(first), null);
      return;
    }
    if (this.head === this.stop.rowHash && !this.narrowed) return;
    for (;;) {
      let row = await this.pages.peek();
      if (row === null) return this.endOfRows();
      const expected = await this.anchors.peek(this.head, row);
      row = await this.resequence(row, expected);
      this.pages.take(row);
      const mirror = await this.mirrorOf(row);
      if (this.narrowed) {
        if (this.isAfterStop(row)) return this.endOfRows();
        await this.checkNarrowed(row, expected, mirror);
      } else {
        await this.checkRow(row, expected, mirror);
      }
      this.checked++;
      this.lastAt = row.createdAt;
      if (this.pages.pageDone) this.progress();
      if (!this.narrowed && this.head === this.stop.rowHash) {
        await this.anchors.finish();
        this.progress();
        return;
      }
      if (this.narrowed && row.eventId === this.stop.eventId) {
        await this.anchors.finish();
        return;
      }
    }
  }

  private progress(): void {
    this.options.onProgress?.({ checked: this.checked, at: this.lastAt });
  }

  /**
   * Events sealed within the same millisecond by different writers can sort either way by id: among
   * rows of the same instant, the one the chain (or the checkpoint) expects next goes first.
   */
  private async resequence(row: AuditEvent, expected: Expected | undefined): Promise<AuditEvent> {
    const wanted = (e: AuditEvent) =>
      expected ? e.eventId === expected.entry.eventId : !this.narrowed && e.prevHash === this.head;
    if (wanted(row)) return row;
    const peers = await this.pages.sameInstant(row.createdAt);
    return peers.find(wanted) ?? row;
  }

  private async checkRow(
    row: AuditEvent,
    expected: Expected | undefined,
    mirror: AuditEvent | null,
  ): Promise<void> {
    if (expected === undefined) {
      // No checkpoint covers this stretch (written before checkpoints were): the chain and the mirror.
      if (mirror === null) this.inserted(row, mirror, null);
      await this.checkContent(row, null, null, mirror);
      if (row.prevHash !== this.head) {
        this.fail({
          kind: 'removed',
          eventId: row.eventId,
          columns: [],
          witnesses: ['chain'],
          checkpoint: null,
          detail: `an event before ${row.eventId} is missing: it links to hash ${short(row.prevHash)}, but the event before it in the log ends in ${short(this.head)}`,
        });
      }
      this.head = row.rowHash;
      return;
    }
    const { entry, seq } = expected;
    if (row.eventId !== entry.eventId) await this.misplaced(row, entry, seq, mirror);
    await this.checkContent(row, entry, seq, mirror);
    this.head = row.rowHash;
    this.anchors.consume();
  }

  /** With `table`: the event's own hash, its copy and its anchor, and the order of that table's events. */
  private async checkNarrowed(
    row: AuditEvent,
    expected: Expected | undefined,
    mirror: AuditEvent | null,
  ): Promise<void> {
    if (expected === undefined) {
      if (mirror === null) this.inserted(row, mirror, null);
      await this.checkContent(row, null, null, mirror);
      return;
    }
    if (row.eventId !== expected.entry.eventId)
      await this.misplaced(row, expected.entry, expected.seq, mirror);
    await this.checkContent(row, expected.entry, expected.seq, mirror);
    this.anchors.consume();
  }

  /** The row is not the event the checkpoint anchors next: that one was removed, or this one inserted or moved. */
  private async misplaced(
    row: AuditEvent,
    entry: AnchorEntry,
    seq: number | null,
    mirror: AuditEvent | null,
  ): Promise<never> {
    const [present] = await this.deps.ports.audit.read({ eventIds: [entry.eventId] });
    const where = seq === null ? "the chain's tail" : `checkpoint ${seq}`;
    if (present === undefined) {
      this.fail({
        kind: 'removed',
        eventId: entry.eventId,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: seq,
        detail: `event ${entry.eventId} (${entry.sourceTable ?? 'no table'}, created ${entry.createdAt}), anchored by ${where}, is not in the audit table; ${row.eventId} stands where it should`,
      });
    }
    if (this.anchors.isAnchoredAhead(row.eventId)) {
      this.fail({
        kind: 'reordered',
        eventId: row.eventId,
        columns: mirror ? differingColumns(row, mirror) : [],
        witnesses: mirror && differingColumns(row, mirror).length > 0 ? ['anchor', 'mirror'] : ['anchor'],
        checkpoint: seq,
        detail: `event ${row.eventId} comes before event ${entry.eventId} in the audit table, against the order ${where} anchored${mirror ? describeDiff(row, mirror) : ''}`,
      });
    }
    this.inserted(row, mirror, seq);
  }

  private inserted(row: AuditEvent, mirror: AuditEvent | null, seq: number | null): never {
    return this.fail({
      kind: 'inserted',
      eventId: row.eventId,
      columns: [],
      witnesses: mirror === null ? (seq === null ? ['mirror'] : ['mirror', 'anchor']) : ['anchor'],
      checkpoint: seq,
      detail:
        mirror === null
          ? `event ${row.eventId} (${row.sourceTable ?? 'no table'}, created ${row.createdAt}) is in the audit table but has no copy in the S3 mirror${seq === null ? '' : ` and no checkpoint anchors it`}`
          : `event ${row.eventId} is in the audit table and the mirror, but checkpoint ${seq} does not anchor it: it was added to both`,
    });
  }

  /** The event's content against its hash, its mirror copy and the hash a checkpoint anchored. */
  private async checkContent(
    row: AuditEvent,
    entry: AnchorEntry | null,
    seq: number | null,
    mirror: AuditEvent | null,
  ): Promise<void> {
    const { rowHash, ...rest } = row;
    const sealed = hashEvent(rest) === rowHash;
    const fromMirror = mirror ? differingColumns(row, mirror) : [];
    const fromAnchor = entry ? anchorDifferences(row, entry) : [];
    if (sealed && fromMirror.length === 0 && fromAnchor.length === 0) {
      if (mirror === null && entry !== null) {
        this.fail({
          kind: 'changed',
          eventId: row.eventId,
          columns: [],
          witnesses: ['mirror'],
          checkpoint: seq,
          detail: `event ${row.eventId} has no copy in the S3 mirror where its JOB_ID and SOURCE_TABLE put it (${auditKey(this.deps, row)})`,
        });
      }
      return;
    }
    const witnesses: Witness[] = [
      ...(sealed ? [] : (['chain'] as const)),
      ...(fromMirror.length > 0 ? (['mirror'] as const) : []),
      ...(fromAnchor.length > 0 ? (['anchor'] as const) : []),
    ];
    const columns = [...new Set([...fromMirror, ...fromAnchor])];
    const onlyPlace = fromMirror.length > 0 && fromMirror.every((c) => c === 'CREATED_AT');
    const reasons = [
      ...(sealed ? [] : ['its content no longer matches its ROW_HASH']),
      ...(fromMirror.length > 0 && mirror ? [`it differs from its S3 copy${describeDiff(row, mirror)}`] : []),
      ...(fromAnchor.length > 0
        ? [`its ${fromAnchor.join(', ')} differ from what checkpoint ${seq ?? '(tail)'} anchored`]
        : []),
      ...(fromMirror.length === 0 && mirror && (fromAnchor.length > 0 || !sealed)
        ? ['its S3 copy was changed alike']
        : []),
    ];
    this.fail({
      kind: onlyPlace ? 'reordered' : 'changed',
      eventId: row.eventId,
      columns,
      witnesses,
      checkpoint: seq,
      detail: `event ${row.eventId} (${row.sourceTable ?? 'no table'}) was ${onlyPlace ? 'moved' : 'changed'}: ${reasons.join('; ')}`,
    });
  }

  private isAfterStop(row: AuditEvent): boolean {
    return (
      this.stopAt !== null &&
      (row.createdAt > this.stopAt.createdAt ||
        (row.createdAt === this.stopAt.createdAt && row.eventId > this.stopAt.eventId))
    );
  }

  private stopAt: { createdAt: string; eventId: string } | null = null;

  /** The table ended before the chain's last delivered event. */
  private async endOfRows(): Promise<void> {
    const expected = await this.anchors.peek(this.head, null);
    if (this.narrowed && expected === undefined) return;
    if (expected) {
      this.fail({
        kind: 'removed',
        eventId: expected.entry.eventId,
        columns: [],
        witnesses: ['anchor'],
        checkpoint: expected.seq,
        detail: `event ${expected.entry.eventId} (${expected.entry.sourceTable ?? 'no table'}, created ${expected.entry.createdAt}), anchored by ${expected.seq === null ? "the chain's tail" : `checkpoint ${expected.seq}`}, is not in the audit table: the log ends before it`,
      });
    }
    if (this.head !== this.stop?.rowHash) {
      this.fail({
        kind: 'removed',
        eventId: this.stop?.eventId ?? null,
        columns: [],
        witnesses: ['chain'],
        checkpoint: null,
        detail: `the audit table ends at hash ${short(this.head)}, but the chain's tail in S3 says its last delivered event is ${this.stop?.eventId ?? '(unknown id)'} (hash ${short(this.stop?.rowHash ?? null)}): the last events were removed`,
      });
    }
  }

  fail(found: AuditBreak): never {
    throw new Broken(found);
  }

  private mirrorOf(row: AuditEvent): Promise<AuditEvent | null> {
    return this.rows ? this.rows.mirror(row) : this.copyOf(row);
  }

  /** An event's S3 copy, or its sealed copy in the tail while it waits for delivery. */
  private readonly copyOf = async (e: AuditEvent): Promise<AuditEvent | null> => {
    const copy = await this.deps.ports.stage.getJson<AuditEvent>(auditKey(this.deps, e));
    return copy ?? this.pending.get(e.eventId) ?? null;
  };

  /** Records the newest checkpoint verified, so the next walk starts after it. */
  private async record(): Promise<boolean> {
    if (this.verified === null) return false;
    const unsigned: VerifiedRecord = { ...this.verified, verifiedAt: this.deps.now().toISOString() };
    const key = this.keys[0];
    const record = key ? { ...unsigned, hmac: recordSignature(unsigned, key) } : unsigned;
    await this.deps.ports.stage.putJson(verifiedKey(this.deps), record);
    return true;
  }

  private validRecord(record: VerifiedRecord): boolean {
    if (typeof record.hmac !== 'string' || !/^[0-9a-f]{64}$/.test(record.hmac)) return false;
    const { hmac, ...rest } = record;
    const given = Buffer.from(hmac, 'hex');
    return this.keys.some((key) => timingSafeEqual(given, Buffer.from(recordSignature(rest, key), 'hex')));
  }

  /** For a narrowed walk: the last delivered event's place in the log, read once. */
  private async locateStop(): Promise<void> {
    if (this.stop?.eventId == null) return;
    const [row] = await this.deps.ports.audit.read({ eventIds: [this.stop.eventId] });
    if (row) this.stopAt = { createdAt: row.createdAt, eventId: row.eventId };
  }
}

function recordSignature(record: Omit<VerifiedRecord, 'hmac'>, key: Buffer): string {
  return createHmac('sha256', key)
    .update(`verified:${canonicalJson(record)}`)
    .digest('hex');
}

/** The anchored fields of an event that differ from its checkpoint entry. */
function anchorDifferences(row: AuditEvent, entry: AnchorEntry): string[] {
  const out: string[] = [];
  if (row.eventId !== entry.eventId) out.push('EVENT_ID');
  if (row.prevHash !== entry.prevHash) out.push('PREV_HASH');
  if (row.rowHash !== entry.rowHash) out.push('ROW_HASH');
  if (row.createdAt !== entry.createdAt) out.push('CREATED_AT');
  if (row.sourceTable !== entry.sourceTable) out.push('SOURCE_TABLE');
  return out;
}

function describeDiff(row: AuditEvent, mirror: AuditEvent): string {
  const columns = differingColumns(row, mirror);
  if (columns.length === 0) return '';
  const shown = columns
    .filter((c) => c !== 'ROW_HASH' && c !== 'PREV_HASH')
    .slice(0, 4)
    .map((c) => {
      const field = fieldOf(c);
      return `${c} ${show(row[field])} (copy: ${show(mirror[field])})`;
    });
  return ` in ${columns.join(', ')}${shown.length > 0 ? `: ${shown.join(', ')}` : ''}`;
}

function fieldOf(column: string): keyof AuditEvent {
  return column.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof AuditEvent;
}

function show(value: unknown): string {
  const text = value === null || value === undefined ? 'NULL' : String(value);
  return text.length > 60 ? `${JSON.stringify(text.slice(0, 57))}...` : JSON.stringify(text);
}

function short(hash: string | null): string {
  return hash === null ? '(chain start)' : `${hash.slice(0, 12)}…`;
}

/** The event a checkpoint (or, past the last one, the chain's tail) expects next. */
interface Expected {
  readonly entry: AnchorEntry;
  /** The checkpoint; null for the tail's list of events not yet anchored. */
  readonly seq: number | null;
}

/** The anchored events in chain order: each checkpoint's, loaded one at a time, then the tail's list. */
class Anchors {
  active = false;
  unanchoredDelivered = 0;
  private queue: AnchorEntry[] = [];
  private current: Checkpoint | null = null;
  private tailUsed = false;
  /** Where the anchored stretch begins: the hash before it and its first event; null when nothing is anchored. */
  private begins: { readonly fromHash: string | null; readonly first: AnchorEntry } | null | undefined;

  constructor(
    private readonly walk: Walk,
    private nextSeq: number,
    private readonly lastSeq: number,
    private previous: CheckpointRef | null,
    private readonly tail: Tail | null,
    private readonly table: string | undefined,
  ) {}

  /**
   * The next anchored event, once the walk has reached the stretch the checkpoints cover: at once when it
   * starts from a checkpoint; from the chain's start when that is anchored; otherwise (a chain older than
   * its checkpoints) from the first anchored event on, or once the chain reaches the hash it links to.
   */
  async peek(head: string | null, row: AuditEvent | null): Promise<Expected | undefined> {
    if (!this.active) {
      if (this.begins === undefined) this.begins = await this.beginning();
      if (this.begins === null) return undefined;
      const reached =
        (this.table === undefined && head === this.begins.fromHash) ||
        (row !== null && !isBefore(row, this.begins.first));
      if (!reached) return undefined;
      this.active = true;
    }
    while (this.queue.length === 0) {
      if (!(await this.loadNext())) return undefined;
    }
    return { entry: this.queue[0] as AnchorEntry, seq: this.current?.seq ?? null };
  }

  consume(): void {
    this.queue.shift();
  }

  isAnchoredAhead(eventId: string): boolean {
    return this.queue.some((e) => e.eventId === eventId);
  }

  /** The walk reached the chain's last delivered event: the checkpoints it covers count as verified. */
  async finish(): Promise<void> {
    while (this.queue.length === 0 && (await this.loadNext())) {
      // each call marks the checkpoint before it verified
    }
  }

  private async beginning(): Promise<{ fromHash: string | null; first: AnchorEntry } | null> {
    if (this.lastSeq >= 1) {
      const first = await this.walk.loadCheckpoint(1, null);
      return { fromHash: first.fromHash, first: first.events[0] as AnchorEntry };
    }
    const list = this.tail?.unanchored ?? [];
    const first = list[0];
    return first ? { fromHash: first.prevHash, first } : null;
  }

  private async loadNext(): Promise<boolean> {
    if (this.current !== null) {
      this.walk.checkpointVerified(this.current);
      this.previous = refOf(this.current);
      this.current = null;
    }
    if (this.nextSeq <= this.lastSeq) {
      const checkpoint = await this.walk.loadCheckpoint(this.nextSeq, this.previous);
      this.nextSeq++;
      this.current = checkpoint;
      this.queue = checkpoint.events.filter((e) => this.table === undefined || e.sourceTable === this.table);
      return true;
    }
    if (this.tailUsed) return false;
    this.tailUsed = true;
    const pending = new Set(this.tail?.undelivered.map((e) => e.eventId) ?? []);
    const list = (this.tail?.unanchored ?? []).filter((e) => !pending.has(e.eventId));
    this.unanchoredDelivered = list.length;
    this.queue = list.filter((e) => this.table === undefined || e.sourceTable === this.table);
    return true;
  }
}

/** Whether `row` comes before `entry` in the log's order (creation time, then id). */
function isBefore(row: AuditEvent, entry: AnchorEntry): boolean {
  const a = Date.parse(row.createdAt);
  const b = Date.parse(entry.createdAt);
  return a < b || (a === b && row.eventId < entry.eventId);
}

/** The audit table's rows in the log's order, a page at a time, each page's mirror copies read ahead. */
class Rows {
  private buffer: AuditEvent[] = [];
  private done = false;
  private mark: { createdAt: string; eventId: string } | null;
  private copies = new Map<string, Promise<AuditEvent | null>>();
  /** Whether the last take emptied the buffer (a page is done). */
  pageDone = false;

  constructor(
    private readonly audit: AuditTable,
    private readonly filter: AuditFilter,
    private readonly pageSize: number,
    /** Start after this event (a checkpoint's head); null: at the log's first event. */
    start: { createdAt: string; eventId: string } | null,
    private readonly read: (e: AuditEvent) => Promise<AuditEvent | null>,
  ) {
    this.mark = start;
  }

  async peek(): Promise<AuditEvent | null> {
    while (this.buffer.length === 0 && !this.done) await this.fill();
    return this.buffer[0] ?? null;
  }

  take(row: AuditEvent): void {
    const i = this.buffer.indexOf(row);
    if (i >= 0) this.buffer.splice(i, 1);
    this.copies.delete(row.eventId);
    this.pageDone = this.buffer.length === 0;
  }

  /** Every buffered row created at `createdAt`, reading on until the buffer holds them all. */
  async sameInstant(createdAt: string): Promise<AuditEvent[]> {
    while (!this.done && this.buffer.at(-1)?.createdAt === createdAt) await this.fill();
    return this.buffer.filter((e) => e.createdAt === createdAt);
  }

  /** The row's S3 copy, read ahead with its page. */
  mirror(row: AuditEvent): Promise<AuditEvent | null> {
    return this.copies.get(row.eventId) ?? this.read(row);
  }

  private async fill(): Promise<void> {
    const page = await this.audit.read({
      ...this.filter,
      ...(this.mark !== null ? { after: this.mark } : {}),
      oldest: this.pageSize,
    });
    if (page.length < this.pageSize) this.done = true;
    const last = page.at(-1);
    if (last) this.mark = { createdAt: last.createdAt, eventId: last.eventId };
    this.buffer.push(...page);
    this.prefetch(page);
  }

  /** Reads the copies of `rows` a group at a time, one group after another, without waiting for them. */
  private prefetch(rows: readonly AuditEvent[]): void {
    let previous: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < rows.length; i += MIRROR_CONCURRENCY) {
      const group = rows.slice(i, i + MIRROR_CONCURRENCY);
      const copies = previous.then(() => Promise.all(group.map((e) => this.read(e))));
      previous = copies.catch(() => undefined);
      group.forEach((e, j) => {
        const copy = copies.then((all) => all[j] ?? null);
        // Observed here so that a failed read of a copy never awaited is not an unhandled rejection.
        copy.catch(() => undefined);
        this.copies.set(e.eventId, copy);
      });
    }
  }
}

/** A verification for a person: a few lines, the break first when there is one (`tally audit verify`, the alert). */
export function describeVerification(result: VerifyResult): string {
  const start =
    result.start.from === 'genesis' ? "the chain's first event" : `checkpoint ${result.start.checkpoint}`;
  const lines: string[] = [];
  if (result.break) {
    const b = result.break;
    lines.push(`BROKEN: ${b.kind} event ${b.eventId ?? '(none: a checkpoint)'}`);
    lines.push(`  ${b.detail}`);
    if (b.columns.length > 0) lines.push(`  columns: ${b.columns.join(', ')}`);
    lines.push(
      `  found by: ${b.witnesses.join(', ')}${b.checkpoint !== null ? ` (checkpoint ${b.checkpoint})` : ''}`,
    );
  } else {
    lines.push('intact');
  }
  lines.push(
    `checked ${result.checked} event(s) from ${start}, against ${result.checkpoints} checkpoint(s)${result.signed ? ' (HMAC checked)' : ''}`,
  );
  lines.push(describeScope(result.scope));
  if (result.head) lines.push(`head: ${result.head.eventId} ${result.head.rowHash}`);
  if (result.verifiedCheckpoint !== null)
    lines.push(`last verified checkpoint: ${result.verifiedCheckpoint}`);
  if (result.unanchored > 0)
    lines.push(`${result.unanchored} delivered event(s) not yet anchored by a checkpoint`);
  if (result.pending > 0) lines.push(`${result.pending} event(s) waiting in S3 for delivery, not checked`);
  return lines.join('\n');
}

/** What a walk checked and what it did not, in one line for a person. */
export function describeScope(scope: VerifyScope): string {
  if (scope.table === null)
    return "checked: every event's hash, its link to the event before it, its S3 copy and its checkpoint entry";
  return `checked: only ${scope.table}'s events, each one's hash, S3 copy and checkpoint entry, and their order; not checked: the links between events (each PREV_HASH against the ROW_HASH of the event before it, often another table's) and every other table's events: run without --table for those`;
}
