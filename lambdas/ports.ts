// The interfaces the steps and services need from the outside world, one concern each: the source
// (PostgreSQL), the stage (S3), the warehouse's loading side, its audit table and its lease store
// (Snowflake). Adapters in `adapters/` implement them; unit tests run the steps against in-memory fakes.
import type { Readable } from 'node:stream';
import type { AuditEvent, EventType, PipelineName } from './domain/audit';
import type { KeyRange, KeyStats } from './domain/chunks';
import type { CodecName, Compression } from './domain/compression';
import type { RowDigest, RowRequest, SegmentRequest, SegmentSum } from './domain/reconcile';
import type { ResolvedTable, TableSpec } from './domain/table';
import type { Window } from './domain/window';

/**
 * Which rows of a table: all of them, a window on the cursor column, or a range of the leading column of
 * its primary key (one chunk of a historical load).
 */
export type Slice =
  | { readonly kind: 'all' }
  | { readonly kind: 'window'; readonly window: Window }
  | { readonly kind: 'keys'; readonly range: KeyRange };

export interface StagedFile {
  readonly key: string;
  readonly rows: number;
  readonly rawBytes: number;
  readonly compressedBytes: number;
}

export interface ExportResult {
  /** Rows counted in the export's snapshot before the export began. */
  readonly sourceCount: number;
  /** Rows written to the files (sum over `files`). */
  readonly rows: number;
  readonly rawBytes: number;
  readonly compressedBytes: number;
  readonly files: readonly StagedFile[];
  /**
   * The exclusive upper bound the export read up to (`docs/window-bound.md`): the window's own `to`, or
   * the bound the source chose for a window open above or a whole-table export with `boundCursor`.
   * Absent when there is none (an integer cursor of an empty table with no lower bound).
   */
  readonly upper?: string;
}

export interface ExportOptions {
  /** The S3 key prefix of this export; part files are `<prefix>/part-00000.csv.gz` (or `.csv.zst`), ... */
  readonly keyPrefix: string;
  /** Start a new part file once the compressed size reaches this many bytes. Default 128 MiB. */
  readonly maxFileBytes?: number;
  /** The part files' codec and level. Default: the one this runtime can write (resolveCompression). */
  readonly compression?: Compression;
  /**
   * For a timestamp window open above: how far, in milliseconds, the chosen upper bound stays below the
   * source's clock, on top of staying below every transaction still in flight. Default 0.
   */
  readonly lagMs?: number;
  /**
   * For an integer window open above: how long, in milliseconds, to wait for the transactions open
   * when the export began to end before it gives up with SourceUnavailableError. Default 10 000.
   */
  readonly settleMs?: number;
  /**
   * For a whole-table export or one chunk of it: also choose the bound an open window would (same lag and wait), so that
   * the next incremental window can start from the snapshot of this export. Default false.
   */
  readonly boundCursor?: boolean;
}

export interface Source {
  /** Checks a configured table against the catalog; throws SourceSchemaError naming what is wrong. */
  resolve(spec: TableSpec): Promise<ResolvedTable>;
  count(table: ResolvedTable, slice: Slice): Promise<number>;
  /**
   * The split points of the leading column of the table's primary key and PostgreSQL's estimate of its
   * rows, read in one snapshot from the catalog's statistics without scanning the table; `none`, with
   * why, when the column's type is not one Tally splits or the table has no statistics yet.
   */
  keyStats(table: ResolvedTable): Promise<KeyStats>;
  /** Counts and exports one slice in one REPEATABLE READ snapshot, streaming compressed CSV into the stage. */
  export(table: ResolvedTable, slice: Slice, stage: Stage, options: ExportOptions): Promise<ExportResult>;
  /** One level of a value reconciliation's segment checksums, computed in the database (`domain/reconcile.ts`). */
  segmentSums(table: ResolvedTable, slice: Slice, request: SegmentRequest): Promise<SegmentSum[]>;
  /** The key and digests of each row of the given segments, for the last level of a reconciliation. */
  rowDigests(table: ResolvedTable, slice: Slice, request: RowRequest): Promise<RowDigest[]>;
  /**
   * Of these keys (canonical key texts, as `RowDigest.key`), the ones the table holds, at any cursor
   * value, read in one snapshot: the delete check's proof that the others are gone.
   */
  presentKeys(table: ResolvedTable, keys: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

export interface Stage {
  /** The bucket the keys live in. */
  readonly bucket: string;
  /** Streams a body to `key` (multipart); a failure aborts the upload so no partial object remains. */
  upload(key: string, body: Readable, contentType?: string): Promise<{ key: string; bytes: number }>;
  putJson(key: string, value: unknown): Promise<void>;
  /**
   * Writes `key` only if no object is there, never replacing one (with the stage's retention, when it
   * has one): 'exists' when one already is.
   */
  keepJson(key: string, value: unknown): Promise<'written' | 'exists'>;
  getJson<T>(key: string): Promise<T | null>;
  /** An object's JSON with the ETag it has now, for a later `putJsonIf`; null when there is none. */
  getJsonTagged<T>(key: string): Promise<Tagged<T> | null>;
  /**
   * Writes `key` only if it is still as last read: holding `expected.etag` (`If-Match`), or absent when
   * `expected` is null (`If-None-Match: *`). 'conflict' when another write came first (S3's 412, a 404
   * for an object since deleted, or a 409 for a write under way); otherwise the new ETag.
   */
  putJsonIf(
    key: string,
    value: unknown,
    expected: { readonly etag: string } | null,
  ): Promise<string | 'conflict'>;
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
}

/** A JSON object as read, with the ETag a conditional write names to replace exactly that version. */
export interface Tagged<T> {
  readonly value: T;
  readonly etag: string;
}

export interface FileLoadResult {
  readonly file: string;
  readonly status: 'LOADED' | 'LOAD_SKIPPED' | 'LOAD_FAILED' | 'PARTIALLY_LOADED';
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  readonly firstError: string | null;
}

export interface LoadResult {
  readonly files: readonly FileLoadResult[];
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  /** For a MERGE: rows inserted and updated in the target. */
  readonly inserted?: number;
  readonly updated?: number;
}

/** The warehouse's loading side: its objects, the two kinds of load, and counts of a target. */
export interface Warehouse {
  /**
   * Creates, if missing, the target tables, the audit and lease tables, the file format (for the part
   * files' codec: replaced when it names another) and the stage.
   */
  bootstrap(tables: readonly ResolvedTable[], codec: CodecName): Promise<void>;
  /**
   * Historical load: in one transaction, delete the target's rows and COPY the files in, so that a rerun
   * leaves the target equal to its export instead of adding rows; a failure keeps the previous content.
   */
  replaceWith(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult>;
  /**
   * Chunked historical load, before the chunks: a fresh, empty copy of the target (same columns, same
   * grants) that the chunks load into while the target itself stays as it is and readable.
   */
  prepareCopy(table: ResolvedTable): Promise<void>;
  /**
   * One chunk's files into the copy, not forced: a file the copy's load metadata shows loaded already is
   * skipped (LOAD_SKIPPED), so a retried chunk never loads a file twice; every other file must load whole.
   */
  loadIntoCopy(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult>;
  /** The rows the copy (null when there is none) and the target hold. */
  countCopy(table: ResolvedTable): Promise<{ readonly copy: number | null; readonly target: number }>;
  /** Swaps the copy with the target in one metadata operation: the target then holds what the copy did. */
  swapInCopy(table: ResolvedTable): Promise<void>;
  /** Drops the copy (after the swap, the target's previous rows), if it is there; best effort. */
  dropCopy(table: ResolvedTable): Promise<void>;
  /** Incremental load: COPY into a transient staging table, then MERGE on the primary key. */
  merge(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult>;
  count(table: ResolvedTable, slice: Slice): Promise<number>;
  /** As `Source.segmentSums`, over the target table. */
  segmentSums(table: ResolvedTable, slice: Slice, request: SegmentRequest): Promise<SegmentSum[]>;
  /** As `Source.rowDigests`, over the target table. */
  rowDigests(table: ResolvedTable, slice: Slice, request: RowRequest): Promise<RowDigest[]>;
  /**
   * How the existing target differs from what the source's columns map to, one line a difference: a
   * column the target lacks (added at the source), one the source lacks (dropped), or one of another type
   * (retyped). Empty when they match.
   */
  targetDrift(table: ResolvedTable): Promise<readonly string[]>;
  /** Adds the `_TALLY_DELETED_AT` column a soft-deleting table's target marks rows in, if it lacks it. */
  addDeletedMark(table: ResolvedTable): Promise<void>;
  /**
   * Marks the rows of these keys (canonical key texts) in `slice` deleted at the source, now; answers
   * how many it marked. Rows already marked keep their mark.
   */
  markDeleted(table: ResolvedTable, slice: Slice, keys: readonly string[]): Promise<number>;
  /** Deletes the rows of these keys (canonical key texts) in `slice`; answers how many it deleted. */
  deleteKeys(table: ResolvedTable, slice: Slice, keys: readonly string[]): Promise<number>;
}

/** The audit table: rows are only ever added. */
export interface AuditTable {
  insert(events: readonly AuditEvent[]): Promise<void>;
  /** The events that match every given filter, oldest first. */
  read(filter?: AuditFilter): Promise<AuditEvent[]>;
}

/**
 * Which events to read. Every step asks a bounded question (by execution, by table, by id, or the newest
 * few), so what a run reads does not grow with the log; `domain/audit-filter.ts` says what each field
 * means, and the adapters answer as it does.
 */
export interface AuditFilter {
  readonly jobId?: string;
  readonly executionId?: string;
  /** A source (`schema.name`) or target table. */
  readonly table?: string;
  /** Events of any of these source tables. */
  readonly sourceTables?: readonly string[];
  /** Events of any of these types. */
  readonly eventTypes?: readonly EventType[];
  readonly pipeline?: PipelineName;
  /** Events with any of these ids. */
  readonly eventIds?: readonly string[];
  /** Events created at or after this instant (ISO 8601). */
  readonly since?: string;
  /**
   * Only the newest this many of the matching events (by creation time, then id), of each source table
   * when `perTable`; still returned oldest first.
   */
  readonly newest?: number;
  readonly perTable?: boolean;
  /** Only events after this one in the log's order (creation time, then id): a page's keyset. */
  readonly after?: { readonly createdAt: string; readonly eventId: string };
  /** Only the oldest this many of the matching events (by creation time, then id): one page. */
  readonly oldest?: number;
}

/** Who may load a table until when. */
export interface TableLease {
  readonly table: string;
  readonly executionId: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/** One writer per table: leases that expire, so a crashed holder cannot block a table for ever. */
export interface LeaseStore {
  /**
   * Takes or renews the lease on a table for an execution, in one atomic statement: it succeeds when the
   * table is free, its lease expired at `now`, or the execution already holds it (then it is extended to
   * `now + ttlMs`). Answers who holds the lease afterwards: the caller, or the execution that keeps it.
   */
  acquire(table: string, executionId: string, now: Date, ttlMs: number): Promise<TableLease>;
  /** Gives the table's lease up if this execution holds it; a no-op otherwise. */
  release(table: string, executionId: string): Promise<void>;
}

/** The warehouse's three ports as one adapter opens them, on one connection it closes at the end. */
export interface WarehousePorts {
  readonly warehouse: Warehouse;
  readonly audit: AuditTable;
  readonly leases: LeaseStore;
  close(): Promise<void>;
}

/** Everything a step may reach. */
export interface Ports {
  readonly source: Source;
  readonly stage: Stage;
  readonly warehouse: Warehouse;
  readonly audit: AuditTable;
  readonly leases: LeaseStore;
}

export type PortName = keyof Ports;

/** Every port's name, for code that wraps each of them (a record, so a port added above must be named). */
export const PORT_NAMES = Object.keys({
  source: true,
  stage: true,
  warehouse: true,
  audit: true,
  leases: true,
} satisfies Record<PortName, true>) as PortName[];

/**
 * The same ports, each seen through `view` whenever it is reached, so a port that is opened on first use
 * (see `runtime/lazy-ports.ts`) is still opened only when a step uses it.
 */
export function viewPorts(
  ports: Ports,
  view: <K extends PortName>(name: K, port: Ports[K]) => Ports[K],
): Ports {
  const viewed = {} as Ports;
  for (const name of PORT_NAMES) {
    Object.defineProperty(viewed, name, { get: () => view(name, ports[name]), enumerable: true });
  }
  return viewed;
}

/** Where OpenLineage run events are sent: an HTTP endpoint, a file or the console (`adapters/openlineage.ts`). */
export interface LineageTransport {
  /** Where the events go, for messages: never a credential. */
  readonly target: string;
  /** Sends one event; rejects when it was not taken, within the transport's own timeout. */
  send(event: unknown): Promise<void>;
}

/** A step's lineage: the transport and what names the events. */
export interface Lineage {
  readonly transport: LineageTransport;
  /** The jobs' namespace. */
  readonly namespace: string;
  /** The `producer` URI of every event. */
  readonly producer: string;
  /** How many undelivered events are kept in the stage for a later run. */
  readonly pendingLimit: number;
}
