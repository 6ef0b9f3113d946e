// What Snowflake knows beyond tables: databases (one attached DuckDB file each), stages, file formats,
// storage integrations, warehouses and their properties, resource monitors, roles, grants and COPY load
// history, kept in tables of the metadata file.
import path from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { quoteIdent, sqlString } from './sql-tokens';

/** The attached catalog holding the metadata tables (the engine's main file). */
export const META = '_SF_META';

/**
 * The system roles and the hierarchy Snowflake creates them in: ACCOUNTADMIN inherits SYSADMIN and
 * SECURITYADMIN, SECURITYADMIN inherits USERADMIN
 * (https://docs.snowflake.com/en/user-guide/security-access-control-overview#system-defined-roles).
 */
const SYSTEM_ROLE_GRANTS: readonly (readonly [granted: string, grantee: string])[] = [
  ['SYSADMIN', 'ACCOUNTADMIN'],
  ['SECURITYADMIN', 'ACCOUNTADMIN'],
  ['USERADMIN', 'SECURITYADMIN'],
];
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
    'STAGES (DB VARCHAR, SCH VARCHAR, NAME VARCHAR, URL VARCHAR, INTEGRATION VARCHAR, FORMAT VARCHAR, COMMENT VARCHAR)',
    'FILE_FORMATS (DB VARCHAR, SCH VARCHAR, NAME VARCHAR, OPTIONS VARCHAR)',
    'INTEGRATIONS (NAME VARCHAR, OPTIONS VARCHAR)',
    'ROLES (NAME VARCHAR)',
    'USERS (NAME VARCHAR)',
    'ROLE_GRANTS (ROLE VARCHAR, GRANTEE_KIND VARCHAR, GRANTEE VARCHAR)',
    'GRANTS (PRIVILEGE VARCHAR, OBJECT_KIND VARCHAR, OBJECT_NAME VARCHAR, ROLE VARCHAR)',
    'WAREHOUSES (NAME VARCHAR)',
    'RESOURCE_MONITORS (NAME VARCHAR, CREDIT_QUOTA BIGINT, FREQUENCY VARCHAR, START_TIMESTAMP VARCHAR, END_TIMESTAMP VARCHAR, TRIGGERS VARCHAR)',
    'ACCOUNT_PARAMETERS (NAME VARCHAR, VALUE VARCHAR)',
  ];
  for (const t of tables) await conn.run(`CREATE TABLE IF NOT EXISTS ${metaTable(t)}`);
  await addWarehouseProperties(conn);
}

/**
 * The warehouse properties kept since warehouses had only a name: a metadata file from before gets the
 * columns, and its warehouses the documented defaults.
 */
async function addWarehouseProperties(conn: DuckDBConnection): Promise<void> {
  const columns = [
    'SIZE VARCHAR',
    'AUTO_SUSPEND BIGINT',
    'AUTO_RESUME BOOLEAN',
    'INITIALLY_SUSPENDED BOOLEAN',
    'RESOURCE_MONITOR VARCHAR',
    'COMMENT VARCHAR',
  ];
  for (const c of columns) {
    await conn.run(`ALTER TABLE ${metaTable('WAREHOUSES')} ADD COLUMN IF NOT EXISTS ${c}`);
  }
  const d = WAREHOUSE_DEFAULTS;
  await conn.run(
    `UPDATE ${metaTable('WAREHOUSES')} SET SIZE = $1, AUTO_SUSPEND = $2, AUTO_RESUME = $3, INITIALLY_SUSPENDED = $4 WHERE SIZE IS NULL`,
    [d.size, d.autoSuspend, d.autoResume, d.initiallySuspended],
  );
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
  readonly comment: string | null;
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
  await conn.run(`INSERT INTO ${metaTable('STAGES')} VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    ...namedKey(name),
    stage.url,
    stage.integration,
    JSON.stringify(stage.format),
    stage.comment,
  ]);
}

export async function getStage(
  conn: DuckDBConnection,
  name: readonly string[],
): Promise<StageDef | undefined> {
  const r = await rows(
    conn,
    `SELECT URL, INTEGRATION, FORMAT, COMMENT FROM ${metaTable('STAGES')} WHERE ${WHERE_NAMED}`,
    namedKey(name),
  );
  const row = r[0];
  if (!row) return undefined;
  return {
    url: row[0] as string,
    integration: row[1] ?? null,
    format: JSON.parse(row[2] as string) as Options,
    comment: row[3] ?? null,
  };
}

/** The names of a schema's stages or file formats, in name order. */
export async function namedIn(
  conn: DuckDBConnection,
  table: 'STAGES' | 'FILE_FORMATS',
  db: string,
  schema: string,
): Promise<string[]> {
  const r = await rows(
    conn,
    `SELECT NAME FROM ${metaTable(table)} WHERE DB = $1 AND SCH = $2 ORDER BY NAME`,
    [db, schema],
  );
  return r.map((x) => x[0] as string);
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

/**
 * The kinds of object a privilege is held on. FUTURE_TABLES names a schema: its privileges are granted on
 * each table created in it later (ALL TABLES IN SCHEMA is turned into one grant per existing table).
 */
export type GrantObjectKind =
  | 'ACCOUNT'
  | 'DATABASE'
  | 'SCHEMA'
  | 'TABLE'
  | 'STAGE'
  | 'FILE_FORMAT'
  | 'INTEGRATION'
  | 'WAREHOUSE'
  | 'RESOURCE_MONITOR'
  | 'ROLE'
  | 'FUTURE_TABLES';

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
  await conn.run(`INSERT INTO ${metaTable('GRANTS')} VALUES ($1, $2, $3, $4)`, [
    privilege,
    kind,
    objectKey(object),
    role,
  ]);
}

export async function revoke(
  conn: DuckDBConnection,
  privilege: string,
  kind: GrantObjectKind,
  object: readonly string[],
  role: string,
): Promise<void> {
  await conn.run(
    `DELETE FROM ${metaTable('GRANTS')} WHERE PRIVILEGE = $1 AND OBJECT_KIND = $2 AND OBJECT_NAME = $3 AND ROLE = $4`,
    [privilege, kind, objectKey(object), role],
  );
}

/** Forgets every grant on an object (it was dropped or replaced). */
export async function dropGrantsOn(
  conn: DuckDBConnection,
  kind: GrantObjectKind,
  object: readonly string[],
): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('GRANTS')} WHERE OBJECT_KIND = $1 AND OBJECT_NAME = $2`, [
    kind,
    objectKey(object),
  ]);
}

/** Swaps every grant on two tables, ownership included (ALTER TABLE ... SWAP WITH). */
export async function swapTableGrants(
  conn: DuckDBConnection,
  a: readonly string[],
  b: readonly string[],
): Promise<void> {
  const [ka, kb] = [objectKey(a), objectKey(b)];
  await conn.run(
    `UPDATE ${metaTable('GRANTS')} SET OBJECT_NAME = CASE OBJECT_NAME WHEN $1 THEN $2 ELSE $1 END WHERE OBJECT_KIND = 'TABLE' AND OBJECT_NAME IN ($1, $2)`,
    [ka, kb],
  );
}

/** Forgets every grant on an object and on the objects whose names start with it (a dropped schema's tables). */
export async function dropGrantsUnder(conn: DuckDBConnection, prefix: readonly string[]): Promise<void> {
  const key = objectKey(prefix);
  await conn.run(
    `DELETE FROM ${metaTable('GRANTS')} WHERE OBJECT_NAME = $1 OR starts_with(OBJECT_NAME, $2)`,
    [key, `${key.slice(0, -1)},`],
  );
}

/** Only one role owns an object; the role that creates it does. */
export async function setOwner(
  conn: DuckDBConnection,
  kind: GrantObjectKind,
  object: readonly string[],
  role: string,
): Promise<void> {
  await conn.run(
    `DELETE FROM ${metaTable('GRANTS')} WHERE PRIVILEGE = 'OWNERSHIP' AND OBJECT_KIND = $1 AND OBJECT_NAME = $2`,
    [kind, objectKey(object)],
  );
  await grant(conn, 'OWNERSHIP', kind, object, role);
}

export async function ownerOf(
  conn: DuckDBConnection,
  kind: GrantObjectKind,
  object: readonly string[],
): Promise<string | undefined> {
  const r = await rows(
    conn,
    `SELECT ROLE FROM ${metaTable('GRANTS')} WHERE PRIVILEGE = 'OWNERSHIP' AND OBJECT_KIND = $1 AND OBJECT_NAME = $2`,
    [kind, objectKey(object)],
  );
  return r[0]?.[0] ?? undefined;
}

/** The privileges any of `roles` holds on an object. */
export async function privilegesHeld(
  conn: DuckDBConnection,
  roles: ReadonlySet<string>,
  kind: GrantObjectKind,
  object: readonly string[],
): Promise<Set<string>> {
  if (roles.size === 0) return new Set();
  const list = [...roles].map(sqlString).join(', ');
  const r = await rows(
    conn,
    `SELECT DISTINCT PRIVILEGE FROM ${metaTable('GRANTS')} WHERE OBJECT_KIND = $1 AND OBJECT_NAME = $2 AND ROLE IN (${list})`,
    [kind, objectKey(object)],
  );
  return new Set(r.map((x) => x[0] as string));
}

/** Every grant on an object, OWNERSHIP included. */
export async function grantsOn(
  conn: DuckDBConnection,
  kind: GrantObjectKind,
  object: readonly string[],
): Promise<{ privilege: string; role: string }[]> {
  return (
    await rows(
      conn,
      `SELECT PRIVILEGE, ROLE FROM ${metaTable('GRANTS')} WHERE OBJECT_KIND = $1 AND OBJECT_NAME = $2 ORDER BY PRIVILEGE, ROLE`,
      [kind, objectKey(object)],
    )
  ).map((r) => ({ privilege: r[0] as string, role: r[1] as string }));
}

/** The privileges granted on future tables of a schema, by role. */
export async function futureTableGrants(
  conn: DuckDBConnection,
  schema: readonly string[],
): Promise<{ privilege: string; role: string }[]> {
  return (
    await rows(
      conn,
      `SELECT PRIVILEGE, ROLE FROM ${metaTable('GRANTS')} WHERE OBJECT_KIND = 'FUTURE_TABLES' AND OBJECT_NAME = $1`,
      [objectKey(schema)],
    )
  ).map((r) => ({ privilege: r[0] as string, role: r[1] as string }));
}

/** The role and every role granted to it, directly or not, plus PUBLIC. */
export async function effectiveRoles(conn: DuckDBConnection, role: string): Promise<Set<string>> {
  const edges = [
    ...SYSTEM_ROLE_GRANTS,
    ...(await rows(
      conn,
      `SELECT ROLE, GRANTEE FROM ${metaTable('ROLE_GRANTS')} WHERE GRANTEE_KIND = 'ROLE'`,
    )),
  ];
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

/** Roles granted to a user in the catalog (users created with SQL). */
export async function userRoleGrants(conn: DuckDBConnection, user: string): Promise<string[]> {
  return (
    await rows(
      conn,
      `SELECT ROLE FROM ${metaTable('ROLE_GRANTS')} WHERE GRANTEE_KIND = 'USER' AND GRANTEE = $1`,
      [user],
    )
  ).map((r) => r[0] as string);
}

// ---- warehouses, resource monitors and account parameters -------------------------------------------

/** A warehouse's properties as CREATE / ALTER WAREHOUSE set them; the size in its canonical spelling. */
export interface WarehouseDef {
  readonly size: string;
  /** Seconds; 0 or null: never suspends. */
  readonly autoSuspend: number | null;
  readonly autoResume: boolean;
  readonly initiallySuspended: boolean;
  readonly resourceMonitor: string | null;
  readonly comment: string | null;
}

/**
 * The documented defaults (https://docs.snowflake.com/en/sql-reference/sql/create-warehouse): XSMALL,
 * AUTO_SUSPEND 600 ("the warehouse suspends automatically after 10 minutes of inactivity"), AUTO_RESUME
 * TRUE, INITIALLY_SUSPENDED FALSE, no resource monitor, no comment.
 */
export const WAREHOUSE_DEFAULTS: WarehouseDef = {
  size: 'XSMALL',
  autoSuspend: 600,
  autoResume: true,
  initiallySuspended: false,
  resourceMonitor: null,
  comment: null,
};

export async function warehouseExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  return (await rows(conn, `SELECT 1 FROM ${metaTable('WAREHOUSES')} WHERE NAME = $1`, [name])).length > 0;
}

export async function putWarehouse(
  conn: DuckDBConnection,
  name: string,
  def: WarehouseDef = WAREHOUSE_DEFAULTS,
): Promise<void> {
  await removeWarehouse(conn, name);
  await conn.run(
    `INSERT INTO ${metaTable('WAREHOUSES')} (NAME, SIZE, AUTO_SUSPEND, AUTO_RESUME, INITIALLY_SUSPENDED, RESOURCE_MONITOR, COMMENT) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      name,
      def.size,
      def.autoSuspend,
      def.autoResume,
      def.initiallySuspended,
      def.resourceMonitor,
      def.comment,
    ],
  );
}

export async function getWarehouse(conn: DuckDBConnection, name: string): Promise<WarehouseDef | undefined> {
  const reader = await conn.runAndReadAll(
    `SELECT SIZE, AUTO_SUSPEND, AUTO_RESUME, INITIALLY_SUSPENDED, RESOURCE_MONITOR, COMMENT FROM ${metaTable('WAREHOUSES')} WHERE NAME = $1`,
    [name],
  );
  const row = reader.getRowObjectsJS()[0];
  if (!row) return undefined;
  return {
    size: row.SIZE as string,
    autoSuspend: row.AUTO_SUSPEND === null ? null : Number(row.AUTO_SUSPEND),
    autoResume: row.AUTO_RESUME as boolean,
    initiallySuspended: row.INITIALLY_SUSPENDED as boolean,
    resourceMonitor: (row.RESOURCE_MONITOR as string | null) ?? null,
    comment: (row.COMMENT as string | null) ?? null,
  };
}

/** Every warehouse's name, in name order. */
export async function warehouseNames(conn: DuckDBConnection): Promise<string[]> {
  return (await rows(conn, `SELECT NAME FROM ${metaTable('WAREHOUSES')} ORDER BY NAME`)).map(
    (r) => r[0] as string,
  );
}

export async function removeWarehouse(conn: DuckDBConnection, name: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('WAREHOUSES')} WHERE NAME = $1`, [name]);
}

export type TriggerAction = 'SUSPEND' | 'SUSPEND_IMMEDIATE' | 'NOTIFY';

/** A resource monitor as CREATE RESOURCE MONITOR defines it; timestamps are ISO 8601 in UTC. */
export interface MonitorDef {
  readonly creditQuota: number | null;
  readonly frequency: string | null;
  readonly startTimestamp: string | null;
  readonly endTimestamp: string | null;
  readonly triggers: readonly { readonly threshold: number; readonly action: TriggerAction }[];
}

export async function monitorExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  return (
    (await rows(conn, `SELECT 1 FROM ${metaTable('RESOURCE_MONITORS')} WHERE NAME = $1`, [name])).length > 0
  );
}

export async function putMonitor(conn: DuckDBConnection, name: string, def: MonitorDef): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('RESOURCE_MONITORS')} WHERE NAME = $1`, [name]);
  await conn.run(`INSERT INTO ${metaTable('RESOURCE_MONITORS')} VALUES ($1, $2, $3, $4, $5, $6)`, [
    name,
    def.creditQuota,
    def.frequency,
    def.startTimestamp,
    def.endTimestamp,
    JSON.stringify(def.triggers),
  ]);
}

export async function getMonitor(conn: DuckDBConnection, name: string): Promise<MonitorDef | undefined> {
  const reader = await conn.runAndReadAll(
    `SELECT CREDIT_QUOTA, FREQUENCY, START_TIMESTAMP, END_TIMESTAMP, TRIGGERS FROM ${metaTable('RESOURCE_MONITORS')} WHERE NAME = $1`,
    [name],
  );
  const row = reader.getRowObjectsJS()[0];
  if (!row) return undefined;
  return {
    creditQuota: row.CREDIT_QUOTA === null ? null : Number(row.CREDIT_QUOTA),
    frequency: (row.FREQUENCY as string | null) ?? null,
    startTimestamp: (row.START_TIMESTAMP as string | null) ?? null,
    endTimestamp: (row.END_TIMESTAMP as string | null) ?? null,
    triggers: JSON.parse(row.TRIGGERS as string) as MonitorDef['triggers'],
  };
}

/** Every resource monitor's name, in name order. */
export async function monitorNames(conn: DuckDBConnection): Promise<string[]> {
  return (await rows(conn, `SELECT NAME FROM ${metaTable('RESOURCE_MONITORS')} ORDER BY NAME`)).map(
    (r) => r[0] as string,
  );
}

/** The warehouses a resource monitor is assigned to, in name order. */
export async function warehousesOfMonitor(conn: DuckDBConnection, monitor: string): Promise<string[]> {
  return (
    await rows(
      conn,
      `SELECT NAME FROM ${metaTable('WAREHOUSES')} WHERE RESOURCE_MONITOR = $1 ORDER BY NAME`,
      [monitor],
    )
  ).map((r) => r[0] as string);
}

/** Forgets a resource monitor; the warehouses it was assigned to have none from then on. */
export async function removeMonitor(conn: DuckDBConnection, name: string): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('RESOURCE_MONITORS')} WHERE NAME = $1`, [name]);
  await conn.run(
    `UPDATE ${metaTable('WAREHOUSES')} SET RESOURCE_MONITOR = NULL WHERE RESOURCE_MONITOR = $1`,
    [name],
  );
}

export async function accountParameters(conn: DuckDBConnection): Promise<Record<string, unknown>> {
  const r = await rows(conn, `SELECT NAME, VALUE FROM ${metaTable('ACCOUNT_PARAMETERS')}`);
  return Object.fromEntries(r.map(([name, value]) => [name as string, JSON.parse(value as string)]));
}

export async function putAccountParameter(
  conn: DuckDBConnection,
  name: string,
  value: unknown | undefined,
): Promise<void> {
  await conn.run(`DELETE FROM ${metaTable('ACCOUNT_PARAMETERS')} WHERE NAME = $1`, [name]);
  if (value !== undefined) {
    await conn.run(`INSERT INTO ${metaTable('ACCOUNT_PARAMETERS')} VALUES ($1, $2)`, [
      name,
      JSON.stringify(value),
    ]);
  }
}

/** The tables of a schema, for grants on ALL TABLES IN SCHEMA. */
export async function tablesIn(conn: DuckDBConnection, db: string, schema: string): Promise<string[]> {
  return (
    await rows(
      conn,
      `SELECT table_name FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND NOT starts_with(table_name, '__SF_')`,
      [db, schema],
    )
  ).map((r) => r[0] as string);
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

/** Swaps the load history of two tables of one schema (ALTER TABLE ... SWAP WITH). */
export async function swapLoadHistory(
  conn: DuckDBConnection,
  a: readonly string[],
  b: readonly string[],
): Promise<void> {
  const [ta, tb] = [sqlString(a[2] as string), sqlString(b[2] as string)];
  await conn.run(
    `UPDATE ${history(a[0] as string)} SET TBL = CASE TBL WHEN ${ta} THEN ${tb} ELSE ${ta} END WHERE SCH = ${sqlString(a[1] as string)} AND TBL IN (${ta}, ${tb})`,
  );
}

export async function resetLoadHistory(conn: DuckDBConnection, table: readonly string[]): Promise<void> {
  await conn.run(`DELETE FROM ${history(table[0] as string)} WHERE ${whereTable(table)}`);
}
