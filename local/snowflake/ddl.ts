// DDL and account statements: databases (attached DuckDB files), schemas, tables with their declared
// Snowflake types, stages, file formats, integrations, roles, users and grants.
import { rm } from 'node:fs/promises';
import {
  addDatabase,
  createRole,
  createUser,
  databaseExists,
  databaseFile,
  dropNamed,
  dropRole,
  dropTableGrants,
  effectiveRoles,
  type GrantObjectKind,
  grant,
  grantRole,
  initLoadHistory,
  integrationExists,
  isAdmin,
  META,
  namedExists,
  objectMissing,
  putFileFormat,
  putIntegration,
  putStage,
  removeDatabase,
  resetLoadHistory,
  revoke,
  revokeRole,
  roleExists,
  schemaExists,
  userExists,
} from './catalog';
import {
  type Ctx,
  findTable,
  qualify,
  requireSchema,
  requireTable,
  statusResult,
  tableExists,
} from './context';
import type { QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { columnMeta, sfType, typeFromDuck } from './sf-types';
import { optNested, optString, parseOptions } from './sql-options';
import { Cursor, quoteIdent, splitTopLevel, sqlString, syntaxError, type Token } from './sql-tokens';
import { readType, translateTokens } from './sql-translate';

const DDL = STATEMENT_TYPE.DDL;

export function q(parts: readonly string[]): string {
  return parts.map(quoteIdent).join('.');
}

export function unsupported(what: string): SnowflakeSqlError {
  return new SnowflakeSqlError('000002', '0A000', `not supported by the local Snowflake stand-in: ${what}`);
}

function alreadyExists(name: string): SnowflakeSqlError {
  return new SnowflakeSqlError('002002', '42710', `SQL compilation error:\nObject '${name}' already exists.`);
}

const done = (message: string): QueryResult => statusResult(message, DDL);
const ok = (): QueryResult => done('Statement executed successfully.');

export async function create(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('CREATE');
  const orReplace = cur.accept('OR', 'REPLACE');
  let temporary = false;
  for (;;) {
    if (cur.accept('LOCAL') || cur.accept('GLOBAL') || cur.accept('TRANSIENT')) continue;
    if (cur.accept('TEMPORARY') || cur.accept('TEMP') || cur.accept('VOLATILE')) {
      temporary = true;
      continue;
    }
    break;
  }
  if (cur.accept('DATABASE')) return createDatabase(ctx, cur, orReplace);
  if (cur.accept('SCHEMA')) return createSchema(ctx, cur, orReplace);
  if (cur.accept('TABLE')) return createTable(ctx, cur, orReplace, temporary);
  if (cur.accept('STAGE')) return createStage(ctx, cur, orReplace);
  if (cur.accept('FILE', 'FORMAT')) return createFileFormat(ctx, cur, orReplace);
  if (cur.accept('STORAGE', 'INTEGRATION')) return createIntegration(ctx, cur, orReplace);
  if (cur.accept('ROLE')) return createNamed(ctx, cur, orReplace, 'Role', roleExists, createRole);
  if (cur.accept('USER')) return createNamed(ctx, cur, orReplace, 'User', userExists, createUser);
  if (cur.accept('WAREHOUSE')) {
    const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
    const name = cur.ident();
    cur.rest();
    return done(
      ifNotExists
        ? `${name} already exists, statement succeeded.`
        : `Warehouse ${name} successfully created.`,
    );
  }
  throw unsupported(`CREATE ${cur.peek()?.value ?? ''}`.trim());
}

async function createNamed(
  ctx: Ctx,
  cur: Cursor,
  orReplace: boolean,
  kind: string,
  exists: (c: Ctx['conn'], n: string) => Promise<boolean>,
  make: (c: Ctx['conn'], n: string) => Promise<void>,
): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const name = cur.ident();
  cur.rest();
  if (await exists(ctx.conn, name)) {
    if (ifNotExists) return done(`${name} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(name);
  }
  await make(ctx.conn, name);
  return done(`${kind} ${name} successfully created.`);
}

async function createDatabase(ctx: Ctx, cur: Cursor, orReplace: boolean): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const name = cur.ident();
  cur.rest();
  if (await databaseExists(ctx.conn, name)) {
    if (ifNotExists) return done(`${name} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(name);
    await dropDatabaseFiles(ctx, name);
  }
  await attachNewDatabase(ctx, name);
  ctx.session.database = name;
  ctx.session.schema = 'PUBLIC';
  return done(`Database ${name} successfully created.`);
}

export async function attachNewDatabase(ctx: Pick<Ctx, 'conn' | 'options'>, name: string): Promise<void> {
  const file = databaseFile(ctx.options.file, name);
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
  await ctx.conn.run(`ATTACH ${sqlString(file)} AS ${quoteIdent(name)}`);
  await ctx.conn.run(`CREATE SCHEMA IF NOT EXISTS ${q([name, 'PUBLIC'])}`);
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

async function createSchema(ctx: Ctx, cur: Cursor, orReplace: boolean): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const parts = cur.name();
  cur.rest();
  const [db, schema] =
    parts.length === 2 ? parts : [qualify(ctx.session, parts, 'CREATE SCHEMA')[0], parts[0]];
  if (!db || !schema) throw syntaxError('syntax error line 1 at position 0 unexpected name.');
  if (!(await databaseExists(ctx.conn, db))) throw objectMissing([db], 'Database');
  if (await schemaExists(ctx.conn, db, schema)) {
    if (ifNotExists) return done(`${schema} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(schema);
    await ctx.conn.run(`DROP SCHEMA ${q([db, schema])} CASCADE`);
  }
  await ctx.conn.run(`CREATE SCHEMA ${q([db, schema])}`);
  ctx.session.database = db;
  ctx.session.schema = schema;
  return done(`Schema ${schema} successfully created.`);
}

interface ColumnDef {
  readonly name: string;
  readonly duck: string;
  readonly canonical: string;
  notNull: boolean;
  readonly defaultSql?: string;
}

const CONSTRAINT_WORDS = new Set([
  'NOT',
  'NULL',
  'PRIMARY',
  'UNIQUE',
  'COMMENT',
  'CONSTRAINT',
  'REFERENCES',
  'COLLATE',
  'FOREIGN',
]);

function parseColumns(ctx: Ctx, tokens: readonly Token[]): ColumnDef[] {
  const columns: ColumnDef[] = [];
  const keyColumns: string[] = [];
  for (const element of splitTopLevel(tokens)) {
    const c = new Cursor(element);
    if (c.accept('CONSTRAINT')) c.ident();
    if (c.isWord('PRIMARY', 'UNIQUE', 'FOREIGN')) {
      // Snowflake records but does not enforce these; a primary key still makes its columns NOT NULL.
      if (c.accept('PRIMARY', 'KEY')) {
        const names = splitTopLevel(c.parenGroup()).map((p) => new Cursor(p).ident());
        keyColumns.push(...names);
      }
      continue;
    }
    const name = c.ident();
    const type = readType(element, c.index);
    c.index = type.end;
    let notNull = false;
    let defaultSql: string | undefined;
    while (!c.done()) {
      if (c.accept('NOT', 'NULL')) notNull = true;
      else if (c.accept('NULL') || c.accept('UNIQUE')) continue;
      else if (c.accept('PRIMARY', 'KEY')) notNull = true;
      else if (c.accept('COMMENT') || c.accept('COLLATE')) {
        c.acceptOp('=');
        c.next();
      } else if (c.accept('CONSTRAINT')) c.ident();
      else if (c.accept('REFERENCES')) {
        c.name();
        if (c.peek()?.text === '(') c.parenGroup();
      } else if (c.accept('DEFAULT')) {
        const start = c.index;
        let depth = 0;
        while (!c.done()) {
          const t = c.peek() as Token;
          if (t.text === '(') depth++;
          if (t.text === ')') depth--;
          if (depth === 0 && t.kind === 'word' && CONSTRAINT_WORDS.has(t.value) && c.index > start) break;
          c.next();
        }
        defaultSql = translateTokens(spaced(element.slice(start, c.index)), ctx.translation());
      } else if (c.isWord('AUTOINCREMENT', 'IDENTITY')) throw unsupported(`${c.peek()?.value} columns`);
      else throw c.unexpected();
    }
    columns.push({
      name,
      duck: type.duck,
      canonical: type.canonical,
      notNull,
      ...(defaultSql ? { defaultSql } : {}),
    });
  }
  for (const k of keyColumns) {
    const col = columns.find((c) => c.name === k);
    if (col) col.notNull = true;
  }
  if (columns.length === 0) throw syntaxError("syntax error line 1 at position 0 unexpected ')'.");
  return columns;
}

/** Significant tokens joined back with blanks, for translating a fragment. */
export function spaced(tokens: readonly Token[]): Token[] {
  return tokens.flatMap((t) => [t, { kind: 'ws' as const, text: ' ', value: ' ', pos: -1 }]);
}

async function createTable(
  ctx: Ctx,
  cur: Cursor,
  orReplace: boolean,
  temporary: boolean,
): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const parts = cur.name();
  const full = temporary ? ['temp', 'main', parts[parts.length - 1] as string] : qualify(ctx.session, parts);
  const [db, schema, table] = full as [string, string, string];
  if (!temporary) await requireSchema(ctx.conn, db, schema);
  let columns: ColumnDef[] | undefined;
  let like: string[] | undefined;
  let asSelect: Token[] | undefined;
  if (cur.peek()?.text === '(') columns = parseColumns(ctx, cur.parenGroup());
  if (cur.accept('LIKE')) like = cur.name();
  while (!cur.done() && !cur.isWord('AS')) {
    // Table options Snowflake accepts and the stand-in has no use for (COMMENT, CLUSTER BY, retention...).
    if (cur.isWord('COPY') && cur.peek(1)?.value === 'GRANTS') cur.index += 2;
    else cur.next();
  }
  if (cur.accept('AS')) asSelect = cur.rest();
  if (!columns && !like && !asSelect) throw cur.unexpected();

  const exists = await tableExists(ctx.conn, db, schema, table);
  if (exists) {
    if (ifNotExists) return done(`${table} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(table);
  }
  const target = temporary ? quoteIdent(table) : q(full);
  const verb = `CREATE ${orReplace ? 'OR REPLACE ' : ''}${temporary ? 'TEMP ' : ''}TABLE`;
  const comments: [string, string][] = [];
  if (like) {
    const source = await requireTable(ctx, like);
    const cols = await describeColumns(ctx, source.name);
    columns = cols.map((c) => ({ name: c.name, duck: c.duck, canonical: c.canonical, notNull: c.notNull }));
  }
  if (asSelect) {
    const select = translateTokens(asSelect, ctx.translation());
    if (columns) throw unsupported('CREATE TABLE with both a column list and AS SELECT');
    await ctx.conn.run(`${verb} ${target} AS ${select}`);
  } else if (columns) {
    const defs = columns.map(
      (c) =>
        `${quoteIdent(c.name)} ${c.duck}${c.notNull ? ' NOT NULL' : ''}${c.defaultSql ? ` DEFAULT (${c.defaultSql})` : ''}`,
    );
    await ctx.conn.run(`${verb} ${target} (${defs.join(', ')})`);
    for (const c of columns) comments.push([c.name, c.canonical]);
  }
  const commentTarget = temporary ? ['temp', 'main', table] : full;
  for (const [col, canonical] of comments) {
    await ctx.conn.run(`COMMENT ON COLUMN ${q([...commentTarget, col])} IS ${sqlString(canonical)}`);
  }
  if (!temporary) {
    await resetLoadHistory(ctx.conn, full);
    await dropTableGrants(ctx.conn, full);
    if (!isAdmin(await effectiveRoles(ctx.conn, ctx.session.role))) {
      await grant(ctx.conn, 'OWNERSHIP', 'TABLE', full, ctx.session.role);
    }
  }
  return done(`Table ${table} successfully created.`);
}

export interface DescribedColumn {
  readonly name: string;
  readonly duck: string;
  readonly canonical: string;
  readonly notNull: boolean;
  readonly defaultSql: string | null;
}

/** Columns of a table with their declared Snowflake types (the comment), in order. */
export async function describeColumns(
  ctx: Pick<Ctx, 'conn'>,
  table: readonly string[],
): Promise<DescribedColumn[]> {
  const [db, schema, name] = table.map(sqlString);
  const reader = await ctx.conn.runAndReadAll(
    `SELECT column_name, data_type, is_nullable, comment, column_default FROM duckdb_columns()
     WHERE database_name = ${db} AND schema_name = ${schema} AND table_name = ${name} ORDER BY column_index`,
  );
  return (reader.getRowsJson() as (string | boolean | null)[][]).map((r) => ({
    name: r[0] as string,
    duck: r[1] as string,
    canonical: (r[3] as string | null) || typeFromDuck(r[1] as string).canonical,
    notNull: r[2] === false,
    defaultSql: (r[4] as string | null) ?? null,
  }));
}

async function createStage(ctx: Ctx, cur: Cursor, orReplace: boolean): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
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
  if (await namedExists(ctx.conn, 'STAGES', name)) {
    if (ifNotExists) return done(`${name[2]} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(name[2] as string);
  }
  await putStage(ctx.conn, name, { url, integration, format });
  return done(`Stage area ${name[2]} successfully created.`);
}

async function createFileFormat(ctx: Ctx, cur: Cursor, orReplace: boolean): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const name = qualify(ctx.session, cur.name(), 'CREATE FILE FORMAT');
  const options = parseOptions(cur);
  const type = optString(options, 'TYPE') ?? 'CSV';
  if (type.toUpperCase() !== 'CSV') throw unsupported(`file format TYPE = ${type} (only CSV)`);
  if (await namedExists(ctx.conn, 'FILE_FORMATS', name)) {
    if (ifNotExists) return done(`${name[2]} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(name[2] as string);
  }
  await putFileFormat(ctx.conn, name, options);
  return done(`File format ${name[2]} successfully created.`);
}

async function createIntegration(ctx: Ctx, cur: Cursor, orReplace: boolean): Promise<QueryResult> {
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const name = cur.ident();
  const options = parseOptions(cur);
  if (await integrationExists(ctx.conn, name)) {
    if (ifNotExists) return done(`${name} already exists, statement succeeded.`);
    if (!orReplace) throw alreadyExists(name);
  }
  await putIntegration(ctx.conn, name, options);
  return done(`Integration ${name} successfully created.`);
}

export async function drop(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('DROP');
  const kind = cur.accept('FILE', 'FORMAT')
    ? 'FILE FORMAT'
    : cur.accept('STORAGE', 'INTEGRATION')
      ? 'INTEGRATION'
      : cur.next().value;
  const ifExists = cur.accept('IF', 'EXISTS');
  const parts = cur.name();
  cur.accept('CASCADE');
  cur.accept('RESTRICT');
  if (!cur.done()) throw cur.unexpected();
  const last = parts[parts.length - 1] as string;
  const gone = (missing: string[], what: string): QueryResult => {
    if (ifExists) return done(`Drop statement executed successfully (${last} already dropped).`);
    throw objectMissing(missing, what);
  };
  switch (kind) {
    case 'TABLE': {
      const found = await findTable(ctx, parts);
      if (!found) return gone(qualify(ctx.session, parts, 'DROP TABLE'), 'Table');
      await ctx.conn.run(`DROP TABLE ${q(found.name)}`);
      if (found.kind === 'table') {
        await resetLoadHistory(ctx.conn, found.name);
        await dropTableGrants(ctx.conn, found.name);
      }
      return done(`${last} successfully dropped.`);
    }
    case 'SCHEMA': {
      const [db, schema] =
        parts.length === 2 ? parts : [qualify(ctx.session, parts, 'DROP SCHEMA')[0], parts[0]];
      if (!db || !schema || !(await schemaExists(ctx.conn, db, schema)))
        return gone([db ?? '', last], 'Schema');
      await ctx.conn.run(`DROP SCHEMA ${q([db, schema])} CASCADE`);
      if (ctx.session.database === db && ctx.session.schema === schema) ctx.session.schema = '';
      return done(`${schema} successfully dropped.`);
    }
    case 'DATABASE': {
      if (!(await databaseExists(ctx.conn, last))) return gone([last], 'Database');
      await dropDatabaseFiles(ctx, last);
      if (ctx.session.database === last) {
        ctx.session.database = '';
        ctx.session.schema = '';
      }
      return done(`${last} successfully dropped.`);
    }
    case 'STAGE':
    case 'FILE FORMAT': {
      const table = kind === 'STAGE' ? 'STAGES' : 'FILE_FORMATS';
      const name = qualify(ctx.session, parts, `DROP ${kind}`);
      if (!(await namedExists(ctx.conn, table, name)))
        return gone(name, kind === 'STAGE' ? 'Stage' : 'File format');
      await dropNamed(ctx.conn, table, name);
      return done(`${last} successfully dropped.`);
    }
    case 'ROLE':
      if (!(await roleExists(ctx.conn, last))) return gone([last], 'Role');
      await dropRole(ctx.conn, last);
      return done(`${last} successfully dropped.`);
    case 'USER':
    case 'WAREHOUSE':
    case 'INTEGRATION':
      await ctx.conn.run(
        kind === 'USER'
          ? `DELETE FROM ${quoteIdent(META)}.main.USERS WHERE NAME = ${sqlString(last)}`
          : kind === 'INTEGRATION'
            ? `DELETE FROM ${quoteIdent(META)}.main.INTEGRATIONS WHERE NAME = ${sqlString(last)}`
            : 'SELECT 1',
      );
      return done(`${last} successfully dropped.`);
    default:
      throw unsupported(`DROP ${kind}`);
  }
}

/** GRANT and REVOKE of privileges on objects, and of roles to users and roles. */
export async function grantOrRevoke(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  const isGrant = cur.next().value === 'GRANT';
  const toWord = isGrant ? 'TO' : 'FROM';
  if (cur.accept('ROLE')) {
    const role = cur.ident();
    cur.expect(toWord);
    const kind = cur.accept('USER') ? 'USER' : 'ROLE';
    if (kind === 'ROLE') cur.accept('ROLE');
    const grantee = cur.ident();
    if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
    if (kind === 'ROLE' && !(await roleExists(ctx.conn, grantee))) throw objectMissing([grantee], 'Role');
    if (isGrant) await grantRole(ctx.conn, role, kind, grantee);
    else await revokeRole(ctx.conn, role, kind, grantee);
    return ok();
  }
  const privileges: string[] = [];
  let current: string[] = [];
  while (!cur.isWord('ON')) {
    const t = cur.next();
    if (t.text === ',') {
      privileges.push(current.join(' '));
      current = [];
    } else current.push(t.value);
  }
  privileges.push(current.join(' '));
  cur.expect('ON');
  let kind: GrantObjectKind;
  let object: string[];
  if (cur.accept('ALL', 'TABLES', 'IN', 'SCHEMA') || cur.accept('FUTURE', 'TABLES', 'IN', 'SCHEMA')) {
    kind = cur.tokens[cur.index - 4]?.value === 'ALL' ? 'ALL_TABLES' : 'FUTURE_TABLES';
    const parts = cur.name();
    object =
      parts.length === 2 ? parts : [qualify(ctx.session, parts, 'GRANT')[0] as string, parts[0] as string];
  } else if (cur.accept('TABLE')) {
    kind = 'TABLE';
    const found = await requireTable(ctx, cur.name());
    object = found.name;
  } else if (cur.accept('SCHEMA')) {
    kind = 'SCHEMA';
    const parts = cur.name();
    object =
      parts.length === 2 ? parts : [qualify(ctx.session, parts, 'GRANT')[0] as string, parts[0] as string];
  } else if (cur.accept('DATABASE')) {
    kind = 'DATABASE';
    object = [cur.ident()];
  } else if (cur.accept('STAGE')) {
    kind = 'STAGE';
    object = qualify(ctx.session, cur.name(), 'GRANT');
  } else {
    // Warehouses, integrations, file formats...: recorded, not enforced.
    kind = 'OTHER';
    const words: string[] = [];
    while (!cur.isWord(toWord)) words.push(cur.next().value);
    object = words;
  }
  cur.expect(toWord);
  cur.accept('ROLE');
  const role = cur.ident();
  if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
  for (const p of privileges) {
    const privilege = p === 'ALL PRIVILEGES' ? 'ALL' : p;
    if (isGrant) await grant(ctx.conn, privilege, kind, object, role);
    else await revoke(ctx.conn, privilege, kind, object, role);
  }
  return ok();
}

export async function use(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('USE');
  const missing = () =>
    new SnowflakeSqlError(
      '002043',
      '02000',
      'SQL compilation error:\nObject does not exist, or operation cannot be performed.',
    );
  if (cur.accept('ROLE')) {
    const role = cur.ident();
    if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
    ctx.session.role = role;
  } else if (cur.accept('WAREHOUSE')) {
    ctx.session.warehouse = cur.ident();
  } else if (cur.accept('SECONDARY', 'ROLES')) {
    cur.rest();
  } else if (cur.accept('SCHEMA')) {
    const parts = cur.name();
    const [db, schema] = parts.length === 2 ? parts : [ctx.session.database, parts[0]];
    if (!db || !schema || !(await schemaExists(ctx.conn, db, schema))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = schema;
  } else {
    cur.accept('DATABASE');
    const db = cur.ident();
    if (!(await databaseExists(ctx.conn, db))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = (await schemaExists(ctx.conn, db, 'PUBLIC')) ? 'PUBLIC' : '';
  }
  if (!cur.done()) throw cur.unexpected();
  return statusResult('Statement executed successfully.', STATEMENT_TYPE.SCL);
}

export async function showTables(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('SHOW');
  cur.accept('TERSE');
  if (!cur.accept('TABLES')) throw unsupported(`SHOW ${cur.peek()?.value ?? ''}`.trim());
  let like: string | undefined;
  if (cur.accept('LIKE')) like = cur.next().value;
  let db = ctx.session.database;
  let schema: string | undefined = ctx.session.schema;
  if (cur.accept('IN')) {
    if (cur.accept('DATABASE')) {
      db = cur.ident();
      schema = undefined;
    } else {
      cur.accept('SCHEMA');
      const parts = cur.name();
      if (parts.length === 2) [db, schema] = parts as [string, string];
      else schema = parts[0];
    }
  }
  const where = [`database_name = ${sqlString(db)}`];
  if (schema) where.push(`schema_name = ${sqlString(schema)}`);
  if (like) where.push(`table_name ILIKE ${sqlString(like)}`);
  const reader = await ctx.read(
    `SELECT table_name, database_name, schema_name, estimated_size FROM duckdb_tables() WHERE ${where.join(' AND ')} ORDER BY 1`,
  );
  const text = sfType('VARCHAR');
  return {
    columns: [
      columnMeta('name', text),
      columnMeta('database_name', text),
      columnMeta('schema_name', text),
      columnMeta('kind', text),
      columnMeta('rows', sfType('NUMBER')),
    ],
    rows: (reader.getRowsJson() as (string | null)[][]).map((r) => [
      r[0] ?? null,
      r[1] ?? null,
      r[2] ?? null,
      'TABLE',
      String(r[3] ?? '0'),
    ]),
    statementTypeId: STATEMENT_TYPE.SELECT,
  };
}

export async function describeTable(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.next();
  cur.accept('TABLE');
  const found = await requireTable(ctx, cur.name());
  const cols = await describeColumns(ctx, found.name);
  const text = sfType('VARCHAR');
  return {
    columns: ['name', 'type', 'kind', 'null?', 'default', 'primary key', 'unique key'].map((n) =>
      columnMeta(n, text),
    ),
    rows: cols.map((c) => [
      c.name,
      c.canonical,
      'COLUMN',
      c.notNull ? 'N' : 'Y',
      c.defaultSql ?? null,
      'N',
      'N',
    ]),
    statementTypeId: STATEMENT_TYPE.SELECT,
  };
}
