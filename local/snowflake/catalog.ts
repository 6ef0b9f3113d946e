// What Snowflake knows beyond tables: databases (one attached DuckDB file each), stages, file formats,
// storage integrations, roles, grants and COPY load history, kept in tables of the metadata file.
import path from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { SnowflakeSqlError } from './engine-types';
import { objectMissing } from './errors';
import { quoteIdent, sqlString } from './sql-tokens';

/** The attached catalog holding the metadata tables (the engine's main file). */
export const META = '_SF_META';

/** Roles that may do anything, like Snowflake's system roles that own what they create. */
export const ADMIN_ROLES = new Set(['ACCOUNTADMIN', 'SYSADMIN']);
const BUILT_IN_ROLES = new Set([
  'ACCOUNTADMIN',
  'SYSADMIN',
  'SECURITYADMIN',
  'USERADMIN',
  'ORGADMIN',
  'PUBLIC',
]);

const metaTable = (table: string): string => `${quoteIdent(META)}.main.${table}`;

export async function initMetadata(conn: DuckDBConnection): Promise<void> {
  const tables = [
    'DATABASES (NAME VARCHAR, FILE VARCHAR)',
    'STAGES (DB VARCHAR, SCH VARCHAR, NAME VARCHAR, URL VARCHAR, INTEGRATION VARCHAR, FORMAT VARCHAR)',
    'FILE_FORMATS (DB VARCHAR, SCH VARCHAR, NAME VARCHAR, OPTIONS VARCHAR)',
    'INTEGRATIONS (NAME VARCHAR, OPTIONS VARCHAR)',
    'ROLES (NAME VARCHAR)',
    'USERS (NAME VARCHAR)',
    'ROLE_GRANTS (ROLE VARCHAR, GRANTEE_KIND VARCHAR, GRANTEE VARCHAR)',
    'GRANTS (PRIVILEGE VARCHAR, OBJECT_KIND VARCHAR, OBJECT_NAME VARCHAR, ROLE VARCHAR)',
  ];
  for (const t of tables) await conn.run(`CREATE TABLE IF NOT EXISTS ${metaTable(t)}`);
}

async function rows(
  conn: DuckDBConnection,
  sql: string,
  values: DuckDBValue[] = [],
): Promise<(string | null)[][]> {
  const reader = await conn.runAndReadAll(sql, values);
  return reader.getRowsJson() as (string | null)[][];
}

/** File of a database, next to the main file; the name is hex-encoded so any identifier is safe. */
export function databaseFile(mainFile: string, name: string): string {
  return path.join(
    path.dirname(mainFile),
    `${path.basename(mainFile)}.${Buffer.from(name).toString('hex')}.db`,
  );
}

export async function listDatabases(conn: DuckDBConnection): Promise<{ name: string; file: string }[]> {
  return (await rows(conn, `SELECT NAME, FILE FROM ${metaTable('DATABASES')} ORDER BY NAME`)).map((r) => ({
    name: r[0] as string,
    file: r[1] as string,
  }));
}

export async function databaseExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  return (
    (await rows(conn, `SELECT 1 FROM ${metaTable('DATABASES')} WHERE NAME = ${sqlString(name)}`)).length > 0
  );
}

export async function schemaExists(conn: DuckDBConnection, db: string, schema: string): Promise<boolean> {
  if (!(await databaseExists(conn, db))) return false;
  const r = await rows(
    conn,
    `SELECT 1 FROM duckdb_schemas() WHERE database_name = ${sqlString(db)} AND schema_name = ${sqlString(schema)}`,
  );
  return r.length > 0;
}

export async function addDatabase(conn: DuckDBConnection, name: string, file: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('DATABASES')} WHERE NAME = ${sqlString(name)}`);
  await conn.run(`INSERT INTO ${metaTable('DATABASES')} VALUES (${sqlString(name)}, ${sqlString(file)})`);
}

export async function removeDatabase(conn: DuckDBConnection, name: string): Promise<void> {
  const n = sqlString(name);
  await conn.run(`DELETE FROM ${metaTable('DATABASES')} WHERE NAME = ${n}`);
  for (const t of ['STAGES', 'FILE_FORMATS', 'LOAD_HISTORY'])
    await conn.run(`DELETE FROM ${metaTable(t)} WHERE DB = ${n}`);
}

// ---- stages, file formats, integrations -------------------------------------------------------------

export interface Options {
  [key: string]: string | string[] | Options;
}

export interface StageDef {
  readonly url: string;
  readonly integration: string | null;
  readonly format: Options;
}

/** Stages and file formats are keyed by database, schema and name, bound as $1, $2 and $3. */
const WHERE_NAMED = 'DB = $1 AND SCH = $2 AND NAME = $3';

function namedKey(name: readonly string[]): [string, string, string] {
  const [db, sch, n] = name;
  return [db as string, sch as string, n as string];
}

export async function putStage(
  conn: DuckDBConnection,
  name: readonly string[],
  stage: StageDef,
): Promise<void> {
  await dropNamed(conn, 'STAGES', name);
  await conn.run(`INSERT INTO ${metaTable('STAGES')} VALUES ($1, $2, $3, $4, $5, $6)`, [
    ...namedKey(name),
    stage.url,
    stage.integration,
    JSON.stringify(stage.format),
  ]);
}

export async function getStage(
  conn: DuckDBConnection,
  name: readonly string[],
): Promise<StageDef | undefined> {
  const r = await rows(
    conn,
    `SELECT URL, INTEGRATION, FORMAT FROM ${metaTable('STAGES')} WHERE ${WHERE_NAMED}`,
    namedKey(name),
  );
  const row = r[0];
  if (!row) return undefined;
  return {
    url: row[0] as string,
    integration: row[1] ?? null,
    format: JSON.parse(row[2] as string) as Options,
  };
}

export async function putFileFormat(
  conn: DuckDBConnection,
  name: readonly string[],
  options: Options,
): Promise<void> {
  await dropNamed(conn, 'FILE_FORMATS', name);
  await conn.run(`INSERT INTO ${metaTable('FILE_FORMATS')} VALUES ($1, $2, $3, $4)`, [
    ...namedKey(name),
    JSON.stringify(options),
  ]);
}

export async function getFileFormat(
  conn: DuckDBConnection,
  name: readonly string[],
): Promise<Options | undefined> {
  const r = await rows(
    conn,
    `SELECT OPTIONS FROM ${metaTable('FILE_FORMATS')} WHERE ${WHERE_NAMED}`,
    namedKey(name),
  );
  return r[0] ? (JSON.parse(r[0][0] as string) as Options) : undefined;
}

export async function namedExists(
  conn: DuckDBConnection,
  table: 'STAGES' | 'FILE_FORMATS',
  name: readonly string[],
): Promise<boolean> {
  return (
    (await rows(conn, `SELECT 1 FROM ${metaTable(table)} WHERE ${WHERE_NAMED}`, namedKey(name))).length > 0
  );
}

export async function dropNamed(
  conn: DuckDBConnection,
  table: 'STAGES' | 'FILE_FORMATS',
  name: readonly string[],
) {
  await conn.run(`DELETE FROM ${metaTable(table)} WHERE ${WHERE_NAMED}`, namedKey(name));
}

export async function putIntegration(conn: DuckDBConnection, name: string, options: Options): Promise<void> {
  await dropIntegration(conn, name);
  await conn.run(`INSERT INTO ${metaTable('INTEGRATIONS')} VALUES ($1, $2)`, [name, JSON.stringify(options)]);
}

export async function dropIntegration(conn: DuckDBConnection, name: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('INTEGRATIONS')} WHERE NAME = $1`, [name]);
}

export async function integrationExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  return (await rows(conn, `SELECT 1 FROM ${metaTable('INTEGRATIONS')} WHERE NAME = $1`, [name])).length > 0;
}

// ---- roles, users, grants ------------------------------------------------------------------------------

export async function roleExists(conn: DuckDBConnection, role: string): Promise<boolean> {
  if (BUILT_IN_ROLES.has(role)) return true;
  return (await rows(conn, `SELECT 1 FROM ${metaTable('ROLES')} WHERE NAME = ${sqlString(role)}`)).length > 0;
}

export async function createRole(conn: DuckDBConnection, role: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('ROLES')} WHERE NAME = ${sqlString(role)}`);
  await conn.run(`INSERT INTO ${metaTable('ROLES')} VALUES (${sqlString(role)})`);
}

export async function dropRole(conn: DuckDBConnection, role: string): Promise<void> {
  const r = sqlString(role);
  await conn.run(`DELETE FROM ${metaTable('ROLES')} WHERE NAME = ${r}`);
  await conn.run(`DELETE FROM ${metaTable('GRANTS')} WHERE ROLE = ${r}`);
  await conn.run(
    `DELETE FROM ${metaTable('ROLE_GRANTS')} WHERE ROLE = ${r} OR (GRANTEE_KIND = 'ROLE' AND GRANTEE = ${r})`,
  );
}

export async function userExists(conn: DuckDBConnection, user: string): Promise<boolean> {
  return (await rows(conn, `SELECT 1 FROM ${metaTable('USERS')} WHERE NAME = ${sqlString(user)}`)).length > 0;
}

export async function createUser(conn: DuckDBConnection, user: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('USERS')} WHERE NAME = ${sqlString(user)}`);
  await conn.run(`INSERT INTO ${metaTable('USERS')} VALUES (${sqlString(user)})`);
}

export async function dropUser(conn: DuckDBConnection, user: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('USERS')} WHERE NAME = $1`, [user]);
}

export async function grantRole(
  conn: DuckDBConnection,
  role: string,
  kind: 'ROLE' | 'USER',
  grantee: string,
) {
  await revokeRole(conn, role, kind, grantee);
  await conn.run(
    `INSERT INTO ${metaTable('ROLE_GRANTS')} VALUES (${sqlString(role)}, '${kind}', ${sqlString(grantee)})`,
  );
}

export async function revokeRole(
  conn: DuckDBConnection,
  role: string,
  kind: 'ROLE' | 'USER',
  grantee: string,
) {
  await conn.run(
    `DELETE FROM ${metaTable('ROLE_GRANTS')} WHERE ROLE = ${sqlString(role)} AND GRANTEE_KIND = '${kind}' AND GRANTEE = ${sqlString(grantee)}`,
  );
}

/** Object kinds a grant can name; ALL_TABLES / FUTURE_TABLES name a schema and cover its tables. */
export type GrantObjectKind =
  | 'TABLE'
  | 'SCHEMA'
  | 'DATABASE'
  | 'STAGE'
  | 'ALL_TABLES'
  | 'FUTURE_TABLES'
  | 'OTHER';

export function objectKey(parts: readonly string[]): string {
  return JSON.stringify(parts);
}

export async function grant(
  conn: DuckDBConnection,
  privilege: string,
  kind: GrantObjectKind,
  object: readonly string[],
  role: string,
): Promise<void> {
  await revoke(conn, privilege, kind, object, role);
  await conn.run(
    `INSERT INTO ${metaTable('GRANTS')} VALUES (${sqlString(privilege)}, '${kind}', ${sqlString(objectKey(object))}, ${sqlString(role)})`,
  );
}

export async function revoke(
  conn: DuckDBConnection,
  privilege: string,
  kind: GrantObjectKind,
  object: readonly string[],
  role: string,
): Promise<void> {
  await conn.run(
    `DELETE FROM ${metaTable('GRANTS')} WHERE PRIVILEGE = ${sqlString(privilege)} AND OBJECT_KIND = '${kind}' AND OBJECT_NAME = ${sqlString(
      objectKey(object),
    )} AND ROLE = ${sqlString(role)}`,
  );
}

export async function dropTableGrants(conn: DuckDBConnection, table: readonly string[]): Promise<void> {
  await conn.run(
    `DELETE FROM ${metaTable('GRANTS')} WHERE OBJECT_KIND = 'TABLE' AND OBJECT_NAME = ${sqlString(objectKey(table))}`,
  );
}

/** The role and every role granted to it, directly or not, plus PUBLIC. */
export async function effectiveRoles(conn: DuckDBConnection, role: string): Promise<Set<string>> {
  const edges = await rows(
    conn,
    `SELECT ROLE, GRANTEE FROM ${metaTable('ROLE_GRANTS')} WHERE GRANTEE_KIND = 'ROLE'`,
  );
  const seen = new Set([role, 'PUBLIC']);
  const queue = [role];
  while (queue.length > 0) {
    const current = queue.pop() as string;
    for (const [granted, grantee] of edges) {
      if (grantee === current && granted && !seen.has(granted)) {
        seen.add(granted);
        queue.push(granted);
      }
    }
  }
  return seen;
}

export function isAdmin(roles: ReadonlySet<string>): boolean {
  for (const r of roles) if (ADMIN_ROLES.has(r)) return true;
  return false;
}

/**
 * Refuses a table operation the session's role may not do. A role with no privilege at all on the table
 * does not see it (002003, as Snowflake answers); one with other privileges gets 003001.
 */
export async function checkTablePrivilege(
  conn: DuckDBConnection,
  role: string,
  table: readonly string[],
  privilege: string,
): Promise<void> {
  const roles = await effectiveRoles(conn, role);
  if (isAdmin(roles)) return;
  const roleList = [...roles].map(sqlString).join(', ');
  const schemaKey = sqlString(objectKey(table.slice(0, 2)));
  const held = await rows(
    conn,
    `SELECT DISTINCT PRIVILEGE FROM ${metaTable('GRANTS')} WHERE ROLE IN (${roleList}) AND (
       (OBJECT_KIND = 'TABLE' AND OBJECT_NAME = ${sqlString(objectKey(table))})
       OR (OBJECT_KIND IN ('ALL_TABLES', 'FUTURE_TABLES') AND OBJECT_NAME = ${schemaKey}))`,
  );
  const privileges = new Set(held.map((r) => r[0] as string));
  if (privileges.has(privilege) || privileges.has('OWNERSHIP') || privileges.has('ALL')) return;
  if (privileges.size === 0) throw objectMissing(table);
  throw new SnowflakeSqlError(
    '003001',
    '42501',
    `SQL access control error:\nInsufficient privileges to operate on table '${table[2]}'`,
  );
}

// ---- load history -------------------------------------------------------------------------------------
// Kept inside each database's own file: DuckDB lets one transaction write to one attached file only, and
// a COPY writes the rows and their load record in the same transaction.

const history = (db: string): string => `${quoteIdent(db)}.main.__SF_LOAD_HISTORY`;

export async function initLoadHistory(conn: DuckDBConnection, db: string): Promise<void> {
  await conn.run(
    `CREATE TABLE IF NOT EXISTS ${history(db)} (SCH VARCHAR, TBL VARCHAR, FILE VARCHAR, ETAG VARCHAR, SIZE BIGINT, ROWS_LOADED BIGINT, LOADED_AT TIMESTAMPTZ)`,
  );
}

export interface LoadedFile {
  readonly file: string;
  readonly etag: string;
  readonly size: number;
}

function whereTable(table: readonly string[]): string {
  return `SCH = ${sqlString(table[1] as string)} AND TBL = ${sqlString(table[2] as string)}`;
}

export async function loadedFiles(conn: DuckDBConnection, table: readonly string[]): Promise<LoadedFile[]> {
  return (
    await rows(conn, `SELECT FILE, ETAG, SIZE FROM ${history(table[0] as string)} WHERE ${whereTable(table)}`)
  ).map((r) => ({ file: r[0] as string, etag: r[1] as string, size: Number(r[2]) }));
}

export function recordLoadSql(table: readonly string[], file: LoadedFile, rowsLoaded: number): string {
  return `INSERT INTO ${history(table[0] as string)} VALUES (${sqlString(table[1] as string)}, ${sqlString(
    table[2] as string,
  )}, ${sqlString(file.file)}, ${sqlString(file.etag)}, ${file.size}, ${rowsLoaded}, now())`;
}

export async function resetLoadHistory(conn: DuckDBConnection, table: readonly string[]): Promise<void> {
  await conn.run(`DELETE FROM ${history(table[0] as string)} WHERE ${whereTable(table)}`);
}
