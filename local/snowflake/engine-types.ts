// The seam inside the Snowflake stand-in: the HTTP server (protocol, sessions, auth) hands each statement
// to an Engine (SQL translated to DuckDB) and encodes what comes back as the driver expects.
import type { ParameterValue } from './parameters';

/** Column types as the driver names them in `rowtype` (lib/connection/result/data_types.js). */
export type SnowflakeColumnType =
  | 'text'
  | 'fixed'
  | 'real'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp_ntz'
  | 'timestamp_ltz'
  | 'timestamp_tz'
  | 'variant'
  | 'object'
  | 'array'
  | 'binary';

export interface ColumnMeta {
  readonly name: string;
  readonly type: SnowflakeColumnType;
  readonly nullable: boolean;
  readonly precision: number | null;
  readonly scale: number | null;
  readonly length: number | null;
  readonly byteLength: number | null;
  readonly database: string;
  readonly schema: string;
  readonly table: string;
}

/** Statement type ids (lib/connection/result/statement_type.js). */
export const STATEMENT_TYPE = {
  SELECT: 0x1000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  COPY: 0x3600,
  DDL: 0x6000,
  /** BEGIN / COMMIT / ROLLBACK / USE / ALTER SESSION and the like. */
  SCL: 0x6000,
} as const;

/**
 * One statement's result. Every value is already in the wire encoding of its column type (a string, or
 * null for SQL NULL): fixed as decimal text, date as days since epoch, timestamps as epoch seconds with
 * nine fraction digits (timestamp_tz followed by a space and offset minutes + 1440), binary as hex,
 * variant as JSON text, boolean as "TRUE"/"FALSE".
 */
export interface QueryResult {
  readonly columns: readonly ColumnMeta[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly statementTypeId: number;
}

/** A bind value as the driver sends it: `{type, value}`, value a string, an array of strings, or null. */
export interface Bind {
  readonly type: string;
  readonly value: string | null | readonly (string | null)[];
}

/** Per-session state the engine may read and change (USE DATABASE, USE SCHEMA, USE ROLE, transactions). */
export interface SessionState {
  readonly id: string;
  readonly user: string;
  role: string;
  database: string;
  schema: string;
  warehouse: string;
  /** Open explicit transaction, if any; owned by the engine. */
  transaction: unknown;
  /** Set with ALTER SESSION; read by the engine and sent back with every result. */
  readonly parameters?: Record<string, ParameterValue>;
  /** The roles granted to the session's user, which USE ROLE may switch to (the login side knows them). */
  readonly grantedRoles?: () => readonly string[];
}

/** A SQL error carrying Snowflake's code and SQL state; the server turns it into an error response. */
export class SnowflakeSqlError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
    this.name = 'SnowflakeSqlError';
  }
}

export interface Engine {
  /** Runs one statement. Positional binds are `binds[0]` for `?` number 1 (or `:1`). */
  execute(sql: string, binds: readonly Bind[], session: SessionState): Promise<QueryResult>;
  /** Ends a session: its running statement completes, then its open transaction is rolled back. */
  closeSession(session: SessionState): Promise<void>;
  /** Cancels the session's running statement, which then fails with `reason`. */
  cancel?(session: SessionState, reason: SnowflakeSqlError): void;
  /** Notes that the session's client is still there (a request, a heartbeat). */
  touch?(session: SessionState): void;
  /** The parameters set for the account with ALTER ACCOUNT, sent to the driver with the session's. */
  accountParameters?(): Readonly<Record<string, ParameterValue>>;
  close(): Promise<void>;
}

export interface EngineOptions {
  /** DuckDB database file; data survives a restart. */
  readonly file: string;
  /** How COPY reads staged files: the stand-in's S3 connection for `s3://bucket/...` stage URLs. */
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly forcePathStyle: boolean;
  };
  /** The database, schema and warehouse created at start when missing, owned by SYSADMIN. */
  readonly defaultDatabase: string;
  readonly defaultSchema: string;
  readonly defaultWarehouse?: string;
  /**
   * How long a transaction left open by a silent session must have been idle before a transaction it blocks
   * aborts it, and how old one that blocks nobody must be (Snowflake: 5 minutes and 4 hours).
   */
  readonly detachedIdleMs?: number;
  readonly detachedMaxAgeMs?: number;
  /**
   * Whether COPY may load a file in the plain CSV dialect with DuckDB's own reader (`copy/plain-load.ts`);
   * false reads every file record by record, the reference the bulk path is tested against. Default true.
   */
  readonly bulkLoad?: boolean;
}
