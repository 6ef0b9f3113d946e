// Snowflake's CREATE and DROP of databases (one attached DuckDB file each), schemas, external stages on
// S3, named file formats, storage integrations and warehouses (accepted, not modelled).
import { rm } from 'node:fs/promises';
import {
  addDatabase,
  databaseExists,
  databaseFile,
  dropNamed,
  dropIntegration as forgetIntegration,
  initLoadHistory,
  integrationExists,
  namedExists,
  putFileFormat,
  putIntegration,
  putStage,
  removeDatabase,
  schemaExists,
} from '../catalog';
import { type Ctx, qualify } from '../context';
import type { QueryResult } from '../engine-types';
import { objectMissing, syntaxError, unsupported } from '../errors';
import { optNested, optString, parseOptions } from '../sql-options';
import { type Cursor, quoteIdent, quoteQualified, sqlString } from '../sql-tokens';
import { type CreateModifiers, claimName, type Dropped, ddlDone } from './common';

export async function createDatabase(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = cur.ident();
  cur.rest();
  const exists = await databaseExists(ctx.conn, name);
  const existing = await claimName(name, exists, modifiers, () => dropDatabaseFiles(ctx, name));
  if (existing) return existing;
  await attachNewDatabase(ctx, name);
  ctx.session.database = name;
  ctx.session.schema = 'PUBLIC';
  return ddlDone(`Database ${name} successfully created.`);
}

/** A new, empty database file attached under the database's name, with its PUBLIC schema. */
export async function attachNewDatabase(ctx: Pick<Ctx, 'conn' | 'options'>, name: string): Promise<void> {
  const file = databaseFile(ctx.options.file, name);
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
  await ctx.conn.run(`ATTACH ${sqlString(file)} AS ${quoteIdent(name)}`);
  await ctx.conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteQualified([name, 'PUBLIC'])}`);
  await initLoadHistory(ctx.conn, name);
  await addDatabase(ctx.conn, name, file);
}

async function dropDatabaseFiles(ctx: Ctx, name: string): Promise<void> {
  const file = databaseFile(ctx.options.file, name);
  // A session connection that still uses the database would keep it attached.
  await ctx.conn.run(`USE memory`);
  await ctx.conn.run(`DETACH ${quoteIdent(name)}`);
  await removeDatabase(ctx.conn, name);
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
}

export async function dropDatabase(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const name = parts[parts.length - 1] as string;
  if (!(await databaseExists(ctx.conn, name))) return { name: [name], kind: 'Database' };
  await dropDatabaseFiles(ctx, name);
  if (ctx.session.database === name) {
    ctx.session.database = '';
    ctx.session.schema = '';
  }
  return name;
}

/** `[db, schema]` of a schema name, the database from the session when the name has one part. */
function schemaParts(ctx: Ctx, parts: readonly string[], what: string): (string | undefined)[] {
  return parts.length === 2 ? [...parts] : [qualify(ctx.session, parts, what)[0], parts[0]];
}

export async function createSchema(ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> {
  const parts = cur.name();
  cur.rest();
  const [db, schema] = schemaParts(ctx, parts, 'CREATE SCHEMA');
  if (!db || !schema) throw syntaxError('syntax error line 1 at position 0 unexpected name.');
  if (!(await databaseExists(ctx.conn, db))) throw objectMissing([db], 'Database');
  const existing = await claimName(schema, await schemaExists(ctx.conn, db, schema), modifiers, () =>
    ctx.conn.run(`DROP SCHEMA ${quoteQualified([db, schema])} CASCADE`),
  );
  if (existing) return existing;
  await ctx.conn.run(`CREATE SCHEMA ${quoteQualified([db, schema])}`);
  ctx.session.database = db;
  ctx.session.schema = schema;
  return ddlDone(`Schema ${schema} successfully created.`);
}

export async function dropSchema(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const [db, schema] = schemaParts(ctx, parts, 'DROP SCHEMA');
  if (!db || !schema || !(await schemaExists(ctx.conn, db, schema))) {
    return { name: [db ?? '', parts[parts.length - 1] as string], kind: 'Schema' };
  }
  await ctx.conn.run(`DROP SCHEMA ${quoteQualified([db, schema])} CASCADE`);
  if (ctx.session.database === db && ctx.session.schema === schema) ctx.session.schema = '';
  return schema;
}

/** External stages only: Snowflake's internal stages take PUT, which the stand-in does not serve. */
export async function createStage(ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> {
  const name = qualify(ctx.session, cur.name(), 'CREATE STAGE');
  const options = parseOptions(cur);
  const url = optString(options, 'URL');
  if (!url) throw unsupported("internal stages (only external stages with URL = 's3://...')");
  if (!/^s3:\/\/[^/]+/.test(url)) throw unsupported(`stage URL ${url} (only s3:// URLs)`);
  const integration = optString(options, 'STORAGE_INTEGRATION') ?? null;
  if (integration && !(await integrationExists(ctx.conn, integration))) {
    throw objectMissing([integration], 'Integration');
  }
  const format = optNested(options, 'FILE_FORMAT') ?? {};
  const existing = await claimName(name[2] as string, await namedExists(ctx.conn, 'STAGES', name), modifiers);
  if (existing) return existing;
  await putStage(ctx.conn, name, { url, integration, format });
  return ddlDone(`Stage area ${name[2]} successfully created.`);
}

export async function createFileFormat(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = qualify(ctx.session, cur.name(), 'CREATE FILE FORMAT');
  const options = parseOptions(cur);
  const type = optString(options, 'TYPE') ?? 'CSV';
  if (type.toUpperCase() !== 'CSV') throw unsupported(`file format TYPE = ${type} (only CSV)`);
  const taken = await namedExists(ctx.conn, 'FILE_FORMATS', name);
  const existing = await claimName(name[2] as string, taken, modifiers);
  if (existing) return existing;
  await putFileFormat(ctx.conn, name, options);
  return ddlDone(`File format ${name[2]} successfully created.`);
}

/** DROP STAGE or DROP FILE FORMAT: both are schema objects kept in a catalog table. */
function dropSchemaObject(table: 'STAGES' | 'FILE_FORMATS', kind: 'Stage' | 'File format') {
  return async (ctx: Ctx, parts: readonly string[]): Promise<Dropped> => {
    const name = qualify(ctx.session, parts, `DROP ${kind === 'Stage' ? 'STAGE' : 'FILE FORMAT'}`);
    if (!(await namedExists(ctx.conn, table, name))) return { name, kind };
    await dropNamed(ctx.conn, table, name);
    return parts[parts.length - 1] as string;
  };
}

export const dropStage = dropSchemaObject('STAGES', 'Stage');
export const dropFileFormat = dropSchemaObject('FILE_FORMATS', 'File format');

/** Kept so that stages can name it; the stand-in reaches S3 with its own credentials. */
export async function createIntegration(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = cur.ident();
  const options = parseOptions(cur);
  const existing = await claimName(name, await integrationExists(ctx.conn, name), modifiers);
  if (existing) return existing;
  await putIntegration(ctx.conn, name, options);
  return ddlDone(`Integration ${name} successfully created.`);
}

export async function dropIntegration(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const name = parts[parts.length - 1] as string;
  await forgetIntegration(ctx.conn, name);
  return name;
}

/** Warehouses are accepted and not modelled: every statement runs on the one embedded DuckDB. */
export async function createWarehouse(
  _ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = cur.ident();
  cur.rest();
  // None is kept, so with IF NOT EXISTS the answer is that one exists, and nothing is replaced or refused.
  const existing = await claimName(name, modifiers.ifNotExists, modifiers);
  return existing ?? ddlDone(`Warehouse ${name} successfully created.`);
}

export async function dropWarehouse(_ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  return parts[parts.length - 1] as string;
}
