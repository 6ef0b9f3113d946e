// How the Snowflake stand-in's answers look on the wire: the response envelope, the session parameters the
// driver formats values with, and the JSON rowset form of a query result (snowflake-sdk 3.3.0).
import type { ColumnMeta, QueryResult, SessionState, SnowflakeSqlError } from './engine-types';
import type { ParameterValue } from './parameters';

export type { ParameterValue };

/**
 * Session parameters sent with the login response and with every result. The driver formats dates, times,
 * timestamps and binaries from these and fails on a binary column without BINARY_OUTPUT_FORMAT. The array
 * binding threshold is far above Snowflake's so that array binds never turn into a stage upload (PUT),
 * which cannot reach a plain-http stand-in.
 */
export const DEFAULT_PARAMETERS: Readonly<Record<string, ParameterValue>> = {
  TIMEZONE: 'UTC',
  AUTOCOMMIT: true,
  BINARY_OUTPUT_FORMAT: 'HEX',
  DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
  TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
  TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
  TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
  TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
  TIMESTAMP_TZ_OUTPUT_FORMAT: '',
  TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_NTZ',
  CLIENT_TIMESTAMP_TYPE_MAPPING: 'TIMESTAMP_LTZ',
  CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 2_000_000_000,
  CLIENT_RESULT_CHUNK_SIZE: 160,
  CLIENT_SESSION_KEEP_ALIVE: false,
  CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY: 3600,
  JS_TREAT_INTEGER_AS_BIGINT: false,
  QUERY_RESULT_FORMAT: 'JSON',
  STATEMENT_TIMEOUT_IN_SECONDS: 172800,
};

export function parameterList(
  overrides: Readonly<Record<string, ParameterValue>>,
): { name: string; value: ParameterValue }[] {
  return Object.entries({ ...DEFAULT_PARAMETERS, ...overrides }).map(([name, value]) => ({ name, value }));
}

export interface Envelope {
  readonly data: unknown;
  readonly code: string | null;
  readonly message: string | null;
  readonly success: boolean;
  readonly headers?: null;
}

export function ok(data: unknown): Envelope {
  return { data, code: null, message: null, success: true };
}

/** A failure answered with HTTP 200: the driver raises it with `code` and `sqlState`. */
export function failure(
  code: string,
  message: string,
  data: Record<string, unknown> | null = null,
): Envelope {
  return { data, code, message, success: false, headers: null };
}

export function sqlFailure(code: string, sqlState: string, message: string, queryId: string): Envelope {
  return failure(code, message, { errorCode: code, sqlState, queryId, internalError: false, age: 0 });
}

export function sqlErrorFailure(err: SnowflakeSqlError, queryId: string): Envelope {
  return sqlFailure(err.code, err.sqlState, err.message, queryId);
}

/** A refusal answered with its own HTTP status (401 for a missing or unknown token, 400, 404). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: Envelope,
  ) {
    super(envelope.message ?? 'error');
    this.name = 'HttpError';
  }
}

function rowtype(column: ColumnMeta) {
  return {
    name: column.name,
    database: column.database,
    schema: column.schema,
    table: column.table,
    type: column.type,
    nullable: column.nullable,
    precision: column.precision,
    scale: column.scale,
    length: column.length,
    byteLength: column.byteLength,
    collation: null,
  };
}

/** The data object of a successful query: the whole result inline as chunk 0, JSON only. */
export function resultData(
  result: QueryResult,
  queryId: string,
  session: SessionState,
  parameters: Readonly<Record<string, ParameterValue>>,
) {
  return {
    parameters: parameterList(parameters),
    rowtype: result.columns.map(rowtype),
    rowset: result.rows,
    total: result.rows.length,
    returned: result.rows.length,
    queryId,
    statementTypeId: result.statementTypeId,
    version: 1,
    queryResultFormat: 'json',
    databaseProvider: null,
    finalDatabaseName: session.database,
    finalSchemaName: session.schema,
    finalWarehouseName: session.warehouse,
    finalRoleName: session.role,
    numberOfBinds: 0,
    arrayBindSupported: false,
    sendResultTime: Date.now(),
    queryContext: { entries: [] },
  };
}
