// Snowflake's name resolution (the session's current database and schema, temporary tables first), and
// what every statement handler gets from the engine: the session, its binds and its DuckDB connection.
import type { DuckDBConnection, DuckDBResultReader } from '@duckdb/node-api';
import { databaseExists, schemaExists } from './catalog';
import type { Bind, EngineOptions, SessionState } from './engine-types';
import { SnowflakeSqlError } from './engine-types';
import { objectMissing } from './errors';
import type { ParameterLevels } from './parameters';
import { sqlString } from './sql-tokens';
import type { TranslateContext } from './sql-translate';

export interface Ctx {
  readonly session: SessionState;
  readonly binds: readonly Bind[];
  readonly conn: DuckDBConnection;
  readonly options: EngineOptions;
  /** True while the session has an explicit transaction open. */
  readonly inTransaction: boolean;
  /** Runs a statement that changes data; replayed if a later statement of the transaction fails. */
  write(sql: string): Promise<DuckDBResultReader>;
  /** Runs a statement that only reads. */
  read(sql: string): Promise<DuckDBResultReader>;
  /**
   * Runs a statement that changes data and may fail without failing the statement it is part of: DuckDB
   * aborts a whole transaction on any error, so on failure the transaction is started again with the writes
   * before this one, and the answer is undefined.
   */
  attempt(sql: string): Promise<DuckDBResultReader | undefined>;
  /** Keeps a temporary file until the statement's transaction ends (a replay may read it again). */
  keepFile(file: string): void;
  translation(row?: number): TranslateContext;
  /** The parameters in effect: the session's, the account's, the documented defaults. */
  readonly levels: ParameterLevels;
  /** Aborted when the statement is cancelled (timeout, abort request, detached client). */
  readonly signal: AbortSignal;
  /** Throws the cancellation's error once the statement is cancelled; long loops call it as they go. */
  throwIfCancelled(): void;
  /** Takes a table's lock for the rest of the transaction (UPDATE, DELETE, MERGE, TRUNCATE). */
  lockTable(table: readonly string[]): Promise<void>;
}

/** Completes a partial name with the session's current database and schema. */
export function qualify(session: SessionState, parts: readonly string[], what = 'CREATE TABLE'): string[] {
  if (parts.length === 3) return [...parts];
  if (parts.length === 2) {
    if (!session.database) throw noCurrent('database', what);
    return [session.database, ...parts];
  }
  if (!session.database) throw noCurrent('database', what);
  if (!session.schema) throw noCurrent('schema', what);
  return [session.database, session.schema, ...parts];
}

function noCurrent(kind: 'database' | 'schema', what: string): SnowflakeSqlError {
  const verb = kind === 'database' ? "'USE DATABASE'" : "'USE SCHEMA'";
  return new SnowflakeSqlError(
    '090105',
    '22000',
    `Cannot perform ${what}. This session does not have a current ${kind}. Call ${verb}, or use a qualified name.`,
  );
}

export async function requireSchema(conn: DuckDBConnection, db: string, schema: string): Promise<void> {
  if (!(await databaseExists(conn, db))) throw objectMissing([db], 'Database');
  if (!(await schemaExists(conn, db, schema))) throw objectMissing([db, schema], 'Schema');
}

export type TableLocation =
  | { readonly kind: 'table'; readonly name: string[] }
  | { readonly kind: 'temp'; readonly name: string[] };

/** Finds a table as Snowflake would: a session's temporary table first, then the qualified name. */
export async function findTable(ctx: Ctx, parts: readonly string[]): Promise<TableLocation | undefined> {
  const last = parts[parts.length - 1] as string;
  if (parts.length === 1 && (await tableExists(ctx.conn, 'temp', 'main', last))) {
    return { kind: 'temp', name: ['temp', 'main', last] };
  }
  const name = qualify(ctx.session, parts, 'this statement');
  if (await tableExists(ctx.conn, name[0] as string, name[1] as string, name[2] as string))
    return { kind: 'table', name };
  return undefined;
}

export async function requireTable(ctx: Ctx, parts: readonly string[]): Promise<TableLocation> {
  const found = await findTable(ctx, parts);
  if (!found)
    throw objectMissing(
      parts.length === 1 ? qualify(ctx.session, parts, 'this statement') : qualifyLoose(ctx.session, parts),
    );
  return found;
}

function qualifyLoose(session: SessionState, parts: readonly string[]): string[] {
  return parts.length === 2 ? [session.database || '?', ...parts] : [...parts];
}

export async function tableExists(
  conn: DuckDBConnection,
  db: string,
  schema: string,
  table: string,
): Promise<boolean> {
  const r = await conn.runAndReadAll(
    `SELECT 1 FROM duckdb_tables() WHERE database_name = ${sqlString(db)} AND schema_name = ${sqlString(
      schema,
    )} AND table_name = ${sqlString(table)}`,
  );
  return r.currentRowCount > 0;
}
