// Snowflake's CREATE and DROP of databases (one attached DuckDB file each), schemas, external stages on S3, named
// file formats and storage integrations, with the privileges each takes and the owner each gets; the DROP of
// account-level objects that warehouses.ts and monitors.ts share.
import { rm } from 'node:fs/promises';
import {
  addDatabase,
  databaseExists,
  databaseFile,
  dropGrantsOn,
  dropGrantsUnder,
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
import { type Ctx, qualify, requireSchema } from '../context';
import { checkFormatOptions, splitName } from '../copy/file-format';
import type { QueryResult } from '../engine-types';
import { objectMissing, syntaxError, unsupported } from '../errors';
import {
  recordCreated,
  requireContainers,
  requireCreate,
  requireGlobal,
  requireIntegrationUsage,
  requireOwnership,
  requireSchemaObjectUsage,
} from '../privileges';
import { readName } from '../reserved';
import { optNested, optString, parseOptions } from '../sql-options';
import { type Cursor, quoteIdent, quoteQualified, sqlString } from '../sql-tokens';
import { type CreateModifiers, claimName, type Dropped, ddlDone } from './common';

const ACCOUNT = 'the account';

export async function createDatabase(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = readName(cur)[0] as string;
  cur.rest();
  // CREATE DATABASE is an account privilege (SYSADMIN holds it); replacing one takes its ownership.
  await requireGlobal(ctx, 'CREATE DATABASE', ACCOUNT);
  const exists = await databaseExists(ctx.conn, name);
  if (exists && modifiers.orReplace) await requireOwnership(ctx, 'DATABASE', [name], 'database');
  const existing = await claimName(name, exists, modifiers, () => dropDatabaseFiles(ctx, name));
  if (existing) return existing;
  await attachNewDatabase(ctx, name);
  await recordCreated(ctx, 'DATABASE', [name]);
  await recordCreated(ctx, 'SCHEMA', [name, 'PUBLIC']);
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
  await dropGrantsUnder(ctx.conn, [name]);
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
}

export async function dropDatabase(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const name = parts[parts.length - 1] as string;
  if (!(await databaseExists(ctx.conn, name))) return { name: [name], kind: 'Database' };
  await requireOwnership(ctx, 'DATABASE', [name], 'database');
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
  const parts = readName(cur);
  cur.rest();
  const [db, schema] = schemaParts(ctx, parts, 'CREATE SCHEMA');
  if (!db || !schema) throw syntaxError('syntax error line 1 at position 0 unexpected name.');
  if (!(await databaseExists(ctx.conn, db))) throw objectMissing([db], 'Database');
  // CREATE SCHEMA on the database, asked before the name: IF NOT EXISTS does not spare it.
  await requireCreate(ctx, 'CREATE SCHEMA', [db]);
  const taken = await schemaExists(ctx.conn, db, schema);
  if (taken && modifiers.orReplace) await requireOwnership(ctx, 'SCHEMA', [db, schema], 'schema');
  const existing = await claimName(schema, taken, modifiers, async () => {
    await ctx.conn.run(`DROP SCHEMA ${quoteQualified([db, schema])} CASCADE`);
    await dropGrantsUnder(ctx.conn, [db, schema]);
  });
  if (existing) return existing;
  await ctx.conn.run(`CREATE SCHEMA ${quoteQualified([db, schema])}`);
  await recordCreated(ctx, 'SCHEMA', [db, schema]);
  ctx.session.database = db;
  ctx.session.schema = schema;
  return ddlDone(`Schema ${schema} successfully created.`);
}

export async function dropSchema(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const [db, schema] = schemaParts(ctx, parts, 'DROP SCHEMA');
  if (!db || !schema || !(await schemaExists(ctx.conn, db, schema))) {
    return { name: [db ?? '', parts[parts.length - 1] as string], kind: 'Schema' };
  }
  await requireOwnership(ctx, 'SCHEMA', [db, schema], 'schema');
  await ctx.conn.run(`DROP SCHEMA ${quoteQualified([db, schema])} CASCADE`);
  await dropGrantsUnder(ctx.conn, [db, schema]);
  if (ctx.session.database === db && ctx.session.schema === schema) ctx.session.schema = '';
  return schema;
}

/** A schema object's name, its schema there and the CREATE privilege on it held (checked before the name). */
async function schemaObjectName(
  ctx: Ctx,
  cur: Cursor,
  privilege: 'CREATE STAGE' | 'CREATE FILE FORMAT',
): Promise<string[]> {
  const name = qualify(ctx.session, readName(cur), privilege);
  await requireSchema(ctx.conn, name[0] as string, name[1] as string);
  await requireCreate(ctx, privilege, name);
  return name;
}

/** External stages only: Snowflake's internal stages take PUT, which the stand-in does not serve. */
export async function createStage(ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> {
  const name = await schemaObjectName(ctx, cur, 'CREATE STAGE');
  const options = parseOptions(cur);
  const url = optString(options, 'URL');
  if (!url) throw unsupported("internal stages (only external stages with URL = 's3://...')");
  if (!/^s3:\/\/[^/]+/.test(url)) throw unsupported(`stage URL ${url} (only s3:// URLs)`);
  for (const key of Object.keys(options)) {
    if (!['URL', 'STORAGE_INTEGRATION', 'FILE_FORMAT', 'COMMENT'].includes(key)) {
      throw unsupported(`the stage property ${key}`);
    }
  }
  const integration = optString(options, 'STORAGE_INTEGRATION') ?? null;
  if (integration) {
    if (!(await integrationExists(ctx.conn, integration))) throw objectMissing([integration], 'Integration');
    // "USAGE: Enables referencing the integration when executing other commands" (CREATE STAGE).
    await requireIntegrationUsage(ctx, integration);
  }
  const format = optNested(options, 'FILE_FORMAT') ?? {};
  checkFormatOptions(format);
  const formatName = optString(format, 'FORMAT_NAME');
  if (formatName !== undefined) {
    await requireSchemaObjectUsage(
      ctx,
      'FILE_FORMAT',
      qualify(ctx.session, splitName(formatName), 'CREATE STAGE'),
    );
  }
  const taken = await namedExists(ctx.conn, 'STAGES', name);
  if (taken && modifiers.orReplace) await requireOwnership(ctx, 'STAGE', name, 'stage');
  const existing = await claimName(name[2] as string, taken, modifiers);
  if (existing) return existing;
  await putStage(ctx.conn, name, {
    url,
    integration,
    format,
    comment: optString(options, 'COMMENT') ?? null,
  });
  await dropGrantsOn(ctx.conn, 'STAGE', name);
  await recordCreated(ctx, 'STAGE', name);
  return ddlDone(`Stage area ${name[2]} successfully created.`);
}

export async function createFileFormat(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  const name = await schemaObjectName(ctx, cur, 'CREATE FILE FORMAT');
  const options = parseOptions(cur);
  checkFormatOptions(options);
  if (options.FORMAT_NAME !== undefined)
    throw syntaxError('syntax error line 1 at position 0 unexpected FORMAT_NAME.');
  const taken = await namedExists(ctx.conn, 'FILE_FORMATS', name);
  if (taken && modifiers.orReplace) await requireOwnership(ctx, 'FILE_FORMAT', name, 'file format');
  const existing = await claimName(name[2] as string, taken, modifiers);
  if (existing) return existing;
  await putFileFormat(ctx.conn, name, options);
  await dropGrantsOn(ctx.conn, 'FILE_FORMAT', name);
  await recordCreated(ctx, 'FILE_FORMAT', name);
  return ddlDone(`File format ${name[2]} successfully created.`);
}

/** DROP STAGE or DROP FILE FORMAT: both are schema objects kept in a catalog table, dropped by their owner. */
function dropSchemaObject(table: 'STAGES' | 'FILE_FORMATS', kind: 'Stage' | 'File format') {
  const grantKind = table === 'STAGES' ? 'STAGE' : 'FILE_FORMAT';
  return async (ctx: Ctx, parts: readonly string[]): Promise<Dropped> => {
    const name = qualify(ctx.session, parts, `DROP ${kind === 'Stage' ? 'STAGE' : 'FILE FORMAT'}`);
    if (!(await namedExists(ctx.conn, table, name))) return { name, kind };
    await requireContainers(ctx, name[0] as string, name[1] as string);
    await requireOwnership(ctx, grantKind, name, kind.toLowerCase());
    await dropNamed(ctx.conn, table, name);
    await dropGrantsOn(ctx.conn, grantKind, name);
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
  // "Only account administrators (users with the ACCOUNTADMIN role) or a role with the global CREATE
  // INTEGRATION privilege can execute this SQL command."
  await requireGlobal(ctx, 'CREATE INTEGRATION', ACCOUNT);
  const taken = await integrationExists(ctx.conn, name);
  if (taken && modifiers.orReplace) await requireOwnership(ctx, 'INTEGRATION', [name], 'integration');
  const existing = await claimName(name, taken, modifiers);
  if (existing) return existing;
  await putIntegration(ctx.conn, name, options);
  await recordCreated(ctx, 'INTEGRATION', [name]);
  return ddlDone(`Integration ${name} successfully created.`);
}

/** DROP of an account-level object, which only its owner may drop; its grants go with it. */
export function dropAccountObject(
  kind: 'INTEGRATION' | 'WAREHOUSE' | 'RESOURCE_MONITOR',
  label: string,
  exists: (conn: Ctx['conn'], name: string) => Promise<boolean>,
  forget: (conn: Ctx['conn'], name: string) => Promise<void>,
): (ctx: Ctx, parts: readonly string[]) => Promise<Dropped> {
  return async (ctx, parts) => {
    const name = parts[parts.length - 1] as string;
    if (!(await exists(ctx.conn, name))) {
      return { name: [name], kind: `${label[0]?.toUpperCase()}${label.slice(1)}` };
    }
    await requireOwnership(ctx, kind, [name], label);
    await forget(ctx.conn, name);
    await dropGrantsOn(ctx.conn, kind, [name]);
    return name;
  };
}

export const dropIntegration = dropAccountObject(
  'INTEGRATION',
  'integration',
  integrationExists,
  forgetIntegration,
);
