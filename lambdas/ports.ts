// The interfaces the pipeline steps need from the outside world. Adapters in `adapters/` implement them
// against PostgreSQL, S3, Snowflake and SNS; tests run them against the embedded stand-ins.
import type { Readable } from 'node:stream';
import type { AuditEvent } from './domain/audit';
import type { ResolvedTable, TableSpec } from './domain/table';
import type { Window } from './domain/window';

/** Which rows of a table: all, a primary-key range, or a window on the cursor column. */
export type Slice =
  | { readonly kind: 'all' }
  | { readonly kind: 'keyRange'; readonly range: Window }
  | { readonly kind: 'window'; readonly window: Window };

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
   * For a window export: the exclusive upper bound actually used. The window's own `to` when it had
   * one; when it was open above, the bound the source chose so that no row below it can still appear
   * (see `ExportOptions.lagMs`): timestamps as UTC ISO 8601 with microseconds
   * (`2024-01-01T00:00:00.123456Z`), integers as decimal text. When that bound would fall below the
   * window's `from`, it is `from` as given (an empty window). For a whole-table export with
   * `ExportOptions.boundCursor`, the same safe bound, read before the snapshot of the export (rows at or
   * above it are exported too). Absent otherwise, and for an integer cursor of an empty table with no
   * lower bound.
   */
  readonly upper?: string;
}

export interface ExportOptions {
  /** The S3 key prefix of this export; part files are `<prefix>/part-00000.csv.gz`, ... */
  readonly keyPrefix: string;
  /** Start a new part file once the compressed size reaches this many bytes. Default 128 MiB. */
  readonly maxFileBytes?: number;
  /** gzip level, 1..9. Default 6. */
  readonly gzipLevel?: number;
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
   * For a whole-table export: also choose the bound an open window would (same lag and wait), so that
   * the next incremental window can start from the snapshot of this export. Default false.
   */
  readonly boundCursor?: boolean;
}

export interface Source {
  /** Checks a configured table against the catalog; throws SourceSchemaError naming what is wrong. */
  resolve(spec: TableSpec): Promise<ResolvedTable>;
  count(table: ResolvedTable, slice: Slice): Promise<number>;
  /** Counts and exports one slice in one REPEATABLE READ snapshot, streaming gzip CSV into the stage. */
  export(table: ResolvedTable, slice: Slice, stage: Stage, options: ExportOptions): Promise<ExportResult>;
  close(): Promise<void>;
}

export interface Stage {
  /** The bucket the keys live in. */
  readonly bucket: string;
  /** Streams a body to `key` (multipart); a failure aborts the upload so no partial object remains. */
  upload(key: string, body: Readable, contentType?: string): Promise<{ key: string; bytes: number }>;
  putJson(key: string, value: unknown): Promise<void>;
  getJson<T>(key: string): Promise<T | null>;
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
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

export interface Warehouse {
  /** Creates, if missing, the target tables, the audit and lease tables, the file format and the stage. */
  bootstrap(tables: readonly ResolvedTable[]): Promise<void>;
  /** Historical load: COPY INTO the target with an explicit FILES list, ON_ERROR = ABORT_STATEMENT. */
  copyInto(table: ResolvedTable, keys: readonly string[], options?: { force?: boolean }): Promise<LoadResult>;
  /**
   * Historical load: in one transaction, delete the target's rows and COPY the files in, so that a rerun
   * leaves the target equal to its export instead of adding rows; a failure keeps the previous content.
   */
  replaceWith(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult>;
  /** Incremental load: COPY into a transient staging table, then MERGE on the primary key. */
  merge(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult>;
  count(table: ResolvedTable, slice: Slice): Promise<number>;
  insertAudit(events: readonly AuditEvent[]): Promise<void>;
  readAudit(filter?: AuditFilter): Promise<AuditEvent[]>;
  /**
   * Takes or renews the lease on a table for an execution, in one atomic statement: it succeeds when the
   * table is free, its lease expired at `now`, or the execution already holds it (then it is extended to
   * `now + ttlMs`). Answers who holds the lease afterwards: the caller, or the execution that keeps it.
   */
  acquireLease(table: string, executionId: string, now: Date, ttlMs: number): Promise<TableLease>;
  /** Gives the table's lease up if this execution holds it; a no-op otherwise. */
  releaseLease(table: string, executionId: string): Promise<void>;
  close(): Promise<void>;
}

/** Who may load a table until when (`TALLY_LOCKS`). */
export interface TableLease {
  readonly table: string;
  readonly executionId: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export interface AuditFilter {
  readonly jobId?: string;
  readonly executionId?: string;
  readonly table?: string;
  readonly since?: string;
}

export interface Alert {
  readonly subject: string;
  readonly message: string;
  readonly executionId: string;
}

export interface Notifier {
  publish(alert: Alert): Promise<void>;
}
