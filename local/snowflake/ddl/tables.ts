// Snowflake tables: CREATE [OR REPLACE] [TEMPORARY] TABLE (columns, LIKE, AS SELECT), ALTER TABLE (SWAP WITH, ADD COLUMN), DROP TABLE, DESCRIBE
// TABLE and SHOW TABLES. The declared Snowflake type of each column is kept as the column's comment.
import {
  dropGrantsOn,
  grant,
  grantsOn,
  privilegesHeld,
  resetLoadHistory,
  swapLoadHistory,
  swapTableGrants,
} from '../catalog';
import { type Ctx, findTable, qualify, requireSchema, requireTable, tableExists } from '../context';
import type { QueryResult } from '../engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from '../engine-types';
import { objectMissing, syntaxError, unsupported } from '../errors';
import {
  isAccountAdmin,
  recordCreated,
  requireCreate,
  requireOwnership,
  requireTableVisible,
  rolesOf,
} from '../privileges';
import { checkName, readName } from '../reserved';
import { columnMeta, sfType, typeFromDuck } from '../sf-types';
import {
  Cursor,
  quoteIdent,
  quoteQualified,
  splitTopLevel,
  sqlString,
  type Token,
  withBlanks,
} from '../sql-tokens';
import { readType, translateTokens } from '../sql-translate';
import { checkReads } from '../table-refs';
import { type CreateModifiers, claimName, type Dropped, ddlDone } from './common';

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
        const names = splitTopLevel(c.parenGroup()).map((p) => {
          checkName(p[0], 'column');
          return new Cursor(p).ident();
        });
        keyColumns.push(...names);
      }
      continue;
    }
    checkName(c.peek(), 'column-definition');
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
        defaultSql = translateTokens(withBlanks(element.slice(start, c.index)), ctx.translation());
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

export async function createTable(ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> {
  const { orReplace, temporary } = modifiers;
  const parts = readName(cur);
  const full = temporary ? ['temp', 'main', parts[parts.length - 1] as string] : qualify(ctx.session, parts);
  const [db, schema, table] = full as [string, string, string];
  if (!temporary) {
    await requireSchema(ctx.conn, db, schema);
    // CREATE TABLE on the schema, "not required to create temporary tables"; checked before the name is.
    await requireCreate(ctx, 'CREATE TABLE', [db, schema]);
  }
  let columns: ColumnDef[] | undefined;
  let like: string[] | undefined;
  let asSelect: Token[] | undefined;
  if (cur.peek()?.text === '(') columns = parseColumns(ctx, cur.parenGroup());
  if (cur.accept('LIKE')) like = cur.name();
  let copyGrants = false;
  while (!cur.done() && !cur.isWord('AS')) {
    // Table options Snowflake accepts and the stand-in has no use for (COMMENT, CLUSTER BY, retention...).
    if (cur.isWord('COPY') && cur.peek(1)?.value === 'GRANTS') {
      cur.index += 2;
      copyGrants = true;
    } else cur.next();
  }
  if (cur.accept('AS')) asSelect = cur.rest();
  if (!columns && !like && !asSelect) throw cur.unexpected();

  const taken = await tableExists(ctx.conn, db, schema, table);
  // Replacing a table takes its ownership, as dropping it does.
  if (taken && orReplace && !temporary) await requireOwnership(ctx, 'TABLE', full, 'table');
  const existing = await claimName(table, taken, modifiers);
  if (existing) return existing;
  // COPY GRANTS "copies all privileges, except OWNERSHIP, from the existing table to the new table"; when a
  // table is also being replaced, which of the two gives them is not said: refused rather than guessed.
  if (copyGrants && (temporary || !like || taken)) {
    throw unsupported(
      temporary
        ? 'COPY GRANTS on a temporary table'
        : !like
          ? 'COPY GRANTS other than with CREATE TABLE ... LIKE'
          : 'CREATE OR REPLACE TABLE ... LIKE ... COPY GRANTS replacing an existing table (whose grants are copied is not documented): drop it first',
    );
  }
  const target = temporary ? quoteIdent(table) : quoteQualified(full);
  const verb = `CREATE ${orReplace ? 'OR REPLACE ' : ''}${temporary ? 'TEMP ' : ''}TABLE`;
  let likeGrants: { privilege: string; role: string }[] = [];
  const comments: [string, string][] = [];
  if (like) {
    const source = await requireTable(ctx, like);
    if (source.kind === 'table') await requireTableVisible(ctx, source.name);
    if (copyGrants && source.kind === 'table') {
      likeGrants = (await grantsOn(ctx.conn, 'TABLE', source.name)).filter(
        (g) => g.privilege !== 'OWNERSHIP',
      );
    }
    const cols = await describeColumns(ctx, source.name);
    columns = cols.map((c) => ({ name: c.name, duck: c.duck, canonical: c.canonical, notNull: c.notNull }));
  }
  if (asSelect) {
    await checkReads(
      ctx,
      asSelect.filter((t) => t.kind !== 'ws' && t.kind !== 'comment'),
    );
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
    await ctx.conn.run(
      `COMMENT ON COLUMN ${quoteQualified([...commentTarget, col])} IS ${sqlString(canonical)}`,
    );
  }
  if (!temporary) {
    await resetLoadHistory(ctx.conn, full);
    await dropGrantsOn(ctx.conn, 'TABLE', full);
    await recordCreated(ctx, 'TABLE', full);
    for (const g of likeGrants) await grant(ctx.conn, g.privilege, 'TABLE', full, g.role);
  }
  return ddlDone(`Table ${table} successfully created.`);
}

/**
 * ALTER TABLE [ IF EXISTS ] <name> SWAP WITH <target>: "Swaps all content and metadata between two
 * specified tables, including any integrity constraints defined for the tables. Also swaps all access
 * control privilege grants. The two tables are essentially renamed in a single transaction." Swapping
 * with a temporary table is not allowed, and the swap takes OWNERSHIP of both. The load metadata of a
 * table is metadata of that table and goes with it. Any other ALTER TABLE is refused; so is a swap
 * across schemas, which the stand-in's storage cannot rename.
 */
export async function alterTable(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('ALTER', 'TABLE');
  const ifExists = cur.accept('IF', 'EXISTS');
  const parts = readName(cur);
  if (cur.isWord('ADD')) return addColumns(ctx, cur, parts, ifExists);
  if (!cur.accept('SWAP', 'WITH')) throw unsupported(`ALTER TABLE ... ${cur.peek()?.value ?? ''}`.trim());
  const otherParts = readName(cur);
  if (!cur.done()) throw cur.unexpected();
  const found = await findTable(ctx, parts);
  if (!found) {
    if (ifExists) return ddlDone('Statement executed successfully.');
    throw objectMissing(qualify(ctx.session, parts, 'ALTER TABLE'));
  }
  const other = await requireTable(ctx, otherParts);
  if (found.kind === 'temp' || other.kind === 'temp') {
    throw new SnowflakeSqlError(
      '002028',
      '42601',
      'Swapping a permanent or transient table with a temporary table is not allowed.',
    );
  }
  const [db, schema, a] = found.name as [string, string, string];
  const [otherDb, otherSchema, b] = other.name as [string, string, string];
  if (db !== otherDb || schema !== otherSchema) {
    throw unsupported('ALTER TABLE ... SWAP WITH a table in another schema');
  }
  if (a === b) throw unsupported('ALTER TABLE ... SWAP WITH the same table');
  await requireOwnership(ctx, 'TABLE', found.name, 'table');
  await requireOwnership(ctx, 'TABLE', other.name, 'table');
  const swap = `__SF_SWAP_${Date.now()}`;
  const inSchema = (t: string) => quoteQualified([db, schema, t]);
  // DuckDB writes one attached file per transaction: the renames and the load history live in the
  // database's file and move together; the grants live in the metadata file.
  await ctx.conn.run('BEGIN TRANSACTION');
  try {
    await ctx.conn.run(`ALTER TABLE ${inSchema(a)} RENAME TO ${quoteIdent(swap)}`);
    await ctx.conn.run(`ALTER TABLE ${inSchema(b)} RENAME TO ${quoteIdent(a)}`);
    await ctx.conn.run(`ALTER TABLE ${inSchema(swap)} RENAME TO ${quoteIdent(b)}`);
    await swapLoadHistory(ctx.conn, found.name, other.name);
    await ctx.conn.run('COMMIT');
  } catch (err) {
    await ctx.conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await swapTableGrants(ctx.conn, found.name, other.name);
  return ddlDone('Statement executed successfully.');
}

/**
 * ALTER TABLE [ IF EXISTS ] <name> ADD [ COLUMN ] [ IF NOT EXISTS ] <col_name> <col_type> [ , ... ]: adds
 * each column at the end, NULL in every existing row; with IF NOT EXISTS a column already there is left
 * as it is, without IF NOT EXISTS it is an error. Needs OWNERSHIP of the table. What the page leaves open
 * is refused: a column already there with IF NOT EXISTS but of another type, DEFAULT, NOT NULL,
 * AUTOINCREMENT, constraints and policies on an added column, and a temporary table.
 */
async function addColumns(
  ctx: Ctx,
  cur: Cursor,
  parts: readonly string[],
  ifExists: boolean,
): Promise<QueryResult> {
  cur.expect('ADD');
  cur.accept('COLUMN');
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  const columns = parseColumns(ctx, cur.rest());
  for (const c of columns) {
    if (c.notNull || c.defaultSql !== undefined) {
      throw unsupported('ALTER TABLE ... ADD COLUMN with NOT NULL, DEFAULT or a constraint');
    }
  }
  const found = await findTable(ctx, parts);
  if (!found) {
    if (ifExists) return ddlDone('Statement executed successfully.');
    throw objectMissing(qualify(ctx.session, parts, 'ALTER TABLE'));
  }
  if (found.kind === 'temp') throw unsupported('ALTER TABLE ... ADD COLUMN on a temporary table');
  await requireOwnership(ctx, 'TABLE', found.name, 'table');
  const existing = new Map((await describeColumns(ctx, found.name)).map((c) => [c.name, c]));
  const added: ColumnDef[] = [];
  for (const c of columns) {
    const there = existing.get(c.name);
    if (there === undefined) {
      added.push(c);
      continue;
    }
    if (!ifNotExists) {
      throw new SnowflakeSqlError(
        '002025',
        '42S21',
        `SQL compilation error:\ncolumn '${c.name}' already exists`,
      );
    }
    if (there.canonical !== c.canonical) {
      throw unsupported(
        `ALTER TABLE ... ADD COLUMN IF NOT EXISTS ${c.name} ${c.canonical}, which the table has as ${there.canonical}`,
      );
    }
  }
  for (const c of added) {
    await ctx.conn.run(
      `ALTER TABLE ${quoteQualified(found.name)} ADD COLUMN ${quoteIdent(c.name)} ${c.duck}`,
    );
    await ctx.conn.run(
      `COMMENT ON COLUMN ${quoteQualified([...found.name, c.name])} IS ${sqlString(c.canonical)}`,
    );
  }
  return ddlDone('Statement executed successfully.');
}

export async function dropTable(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const found = await findTable(ctx, parts);
  if (!found) return { name: qualify(ctx.session, parts, 'DROP TABLE'), kind: 'Table' };
  if (found.kind === 'table') await requireOwnership(ctx, 'TABLE', found.name, 'table');
  await ctx.conn.run(`DROP TABLE ${quoteQualified(found.name)}`);
  if (found.kind === 'table') {
    await resetLoadHistory(ctx.conn, found.name);
    await dropGrantsOn(ctx.conn, 'TABLE', found.name);
  }
  return parts[parts.length - 1] as string;
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
    `SELECT table_name, database_name, schema_name, estimated_size FROM duckdb_tables() WHERE ${where.join(' AND ')} AND NOT starts_with(table_name, '__SF_') ORDER BY 1`,
  );
  // SHOW lists the tables the role has a privilege on.
  const roles = await rolesOf(ctx);
  const visible: (string | null)[][] = [];
  for (const r of reader.getRowsJson() as (string | null)[][]) {
    const name = [r[1], r[2], r[0]] as string[];
    if (isAccountAdmin(roles) || (await privilegesHeld(ctx.conn, roles, 'TABLE', name)).size > 0)
      visible.push(r);
  }
  const text = sfType('VARCHAR');
  return {
    columns: [
      columnMeta('name', text),
      columnMeta('database_name', text),
      columnMeta('schema_name', text),
      columnMeta('kind', text),
      columnMeta('rows', sfType('NUMBER')),
    ],
    rows: visible.map((r) => [r[0] ?? null, r[1] ?? null, r[2] ?? null, 'TABLE', String(r[3] ?? '0')]),
    statementTypeId: STATEMENT_TYPE.SELECT,
  };
}

export async function describeTable(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.next();
  cur.accept('TABLE');
  const found = await requireTable(ctx, cur.name());
  if (found.kind === 'table') await requireTableVisible(ctx, found.name);
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
