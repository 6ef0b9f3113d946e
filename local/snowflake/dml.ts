// Queries and DML: SELECT with Snowflake's column types and names, INSERT (with array binds), UPDATE,
// DELETE, TRUNCATE and MERGE, each answering with Snowflake's result row and checked against grants.
import type { DuckDBResultReader } from '@duckdb/node-api';
import { checkTablePrivilege } from './catalog';
import { type Ctx, findTable, requireTable, type TableLocation } from './context';
import { describeColumns } from './ddl/tables';
import { encodeValue } from './encode';
import type { ColumnMeta, QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { syntaxError, unsupported } from './errors';
import { columnMeta, countColumn, parseCanonical, type SfType, storedAs, typeFromDuck } from './sf-types';
import {
  Cursor,
  identName,
  quoteIdent,
  quoteQualified,
  significant,
  type Token,
  withBlanks,
} from './sql-tokens';
import { bindRows, hasArrayBinds, translateTokens, withSnowflakeColumnNames } from './sql-translate';
import { statementExecuted } from './status';

const SOURCE_KEYWORDS = new Set(['FROM', 'JOIN', 'USING']);
const NOT_TABLES = new Set(['LATERAL', 'UNNEST', 'VALUES', 'TABLE', 'SELECT', 'WITH']);
const CLAUSE_ENDS = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'QUALIFY',
  'UNION',
  'ON',
  'SET',
  'WHEN',
  'EXCEPT',
  'MINUS',
  'INTERSECT',
]);

/** Names of tables a statement reads, found after FROM / JOIN / USING and in FROM lists (CTEs excluded). */
export function tableRefs(sig: readonly Token[]): string[][] {
  const ctes = new Set<string>();
  for (let i = 0; i + 2 < sig.length; i++) {
    const t = sig[i] as Token;
    const name = identName(t);
    const prev = sig[i - 1];
    if (
      name &&
      sig[i + 1]?.value === 'AS' &&
      sig[i + 2]?.text === '(' &&
      (prev?.value === 'WITH' || prev?.text === ',' || prev?.value === 'RECURSIVE')
    ) {
      ctes.add(name);
    }
  }
  const refs: string[][] = [];
  const inFrom: boolean[] = [false];
  let depth = 0;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.text === '(') {
      depth++;
      inFrom[depth] = false;
      continue;
    }
    if (t.text === ')') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (t.kind === 'word' && t.value === 'FROM') inFrom[depth] = true;
    else if (t.kind === 'word' && CLAUSE_ENDS.has(t.value)) inFrom[depth] = false;
    const prev = sig[i - 1];
    const trigger =
      (prev?.kind === 'word' && SOURCE_KEYWORDS.has(prev.value)) ||
      (prev?.text === ',' && inFrom[depth] === true);
    if (
      !trigger ||
      !identName(t) ||
      (t.kind === 'word' && (NOT_TABLES.has(t.value) || CLAUSE_ENDS.has(t.value)))
    ) {
      continue;
    }
    const parts: string[] = [identName(t) as string];
    let j = i + 1;
    while (sig[j]?.text === '.' && sig[j + 1] && identName(sig[j + 1] as Token)) {
      parts.push(identName(sig[j + 1] as Token) as string);
      j += 2;
    }
    if (sig[j]?.text === '(') continue;
    if (parts.length === 1 && ctes.has(parts[0] as string)) continue;
    refs.push(parts);
  }
  return refs;
}

/** Resolves every read table (002003 if missing) and checks SELECT on it. */
async function checkReads(ctx: Ctx, sig: readonly Token[]): Promise<TableLocation[]> {
  const found: TableLocation[] = [];
  for (const ref of tableRefs(sig)) {
    if (ref.length >= 2 && ref[ref.length - 2] === 'INFORMATION_SCHEMA') continue;
    const location = await requireTable(ctx, ref);
    if (location.kind === 'table')
      await checkTablePrivilege(ctx.conn, ctx.session.role, location.name, 'SELECT');
    found.push(location);
  }
  return found;
}

async function checkTarget(ctx: Ctx, parts: readonly string[], privilege: string): Promise<TableLocation> {
  const location = await requireTable(ctx, parts);
  if (location.kind === 'table')
    await checkTablePrivilege(ctx.conn, ctx.session.role, location.name, privilege);
  return location;
}

function duckTypeName(reader: DuckDBResultReader, i: number): string {
  const t = reader.columnType(i);
  return t.alias ?? t.toString();
}

/** Describes and encodes a result, using declared column types of the tables read where names match. */
async function encodeResult(
  ctx: Ctx,
  reader: DuckDBResultReader,
  sources: readonly TableLocation[],
  statementTypeId: number,
): Promise<QueryResult> {
  const declared = new Map<string, { sf: SfType; origin: TableLocation; nullable: boolean } | null>();
  for (const source of sources) {
    for (const col of await describeColumns(ctx, source.name)) {
      const sf = parseCanonical(col.canonical);
      if (!sf) continue;
      // A name found in two tables is ambiguous: fall back to DuckDB's type.
      declared.set(col.name, declared.has(col.name) ? null : { sf, origin: source, nullable: !col.notNull });
    }
  }
  const columns: ColumnMeta[] = [];
  const names = reader.columnNames();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const duck = duckTypeName(reader, i);
    const hit = declared.get(name);
    if (hit && storedAs(hit.sf, duck)) {
      const [database, schema, table] =
        hit.origin.kind === 'table' ? hit.origin.name : ['', '', hit.origin.name[2]];
      columns.push(
        columnMeta(name, hit.sf, {
          database: database as string,
          schema: schema as string,
          table: table as string,
          nullable: hit.nullable,
        }),
      );
    } else columns.push(columnMeta(name, typeFromDuck(duck)));
  }
  const rows = reader
    .getRows()
    .map((row) => row.map((v, i) => encodeValue(v, (columns[i] as ColumnMeta).type)));
  return { columns, rows, statementTypeId };
}

export async function select(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  if (hasArrayBinds(ctx.binds)) throw unsupported('array binds in a query');
  const sig = significant(tokens);
  const sources = await checkReads(ctx, sig);
  const sql = translateTokens(withSnowflakeColumnNames(tokens), ctx.translation());
  const reader = await ctx.read(sql);
  return encodeResult(ctx, reader, sources, STATEMENT_TYPE.SELECT);
}

function countOf(reader: DuckDBResultReader): number {
  const v = reader.getRows()[0]?.[0];
  return v === undefined || v === null ? 0 : Number(v);
}

function counts(names: readonly string[], values: readonly number[], statementTypeId: number): QueryResult {
  return { columns: names.map(countColumn), rows: [values.map(String)], statementTypeId };
}

export async function insert(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  const cur = new Cursor(sig);
  cur.expect('INSERT');
  const overwrite = cur.accept('OVERWRITE');
  if (cur.isWord('ALL', 'FIRST')) throw unsupported('multi-table INSERT');
  cur.expect('INTO');
  const target = await checkTarget(ctx, cur.name(), 'INSERT');
  await checkReads(ctx, sig.slice(cur.index));
  if (overwrite) await ctx.write(`DELETE FROM ${quoteQualified(target.name)}`);
  const sql = hasArrayBinds(ctx.binds)
    ? expandValues(ctx, tokens)
    : translateTokens(tokens, ctx.translation());
  const reader = await ctx.write(sql.replace(/^\s*INSERT\s+OVERWRITE/i, 'INSERT'));
  return counts(['number of rows inserted'], [countOf(reader)], STATEMENT_TYPE.INSERT);
}

/** `INSERT ... VALUES (?, ?)` with array binds becomes one VALUES row per array element. */
function expandValues(ctx: Ctx, tokens: readonly Token[]): string {
  const valuesAt = tokens.findIndex((t) => t.kind === 'word' && t.value === 'VALUES');
  if (valuesAt < 0) throw unsupported('array binds outside INSERT ... VALUES');
  const open = tokens.findIndex((t, i) => i > valuesAt && t.text === '(');
  let depth = 0;
  let close = open;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]?.text === '(') depth++;
    if (tokens[i]?.text === ')') depth--;
    if (depth === 0) {
      close = i;
      break;
    }
  }
  const tuple = tokens.slice(open, close + 1);
  const rows: string[] = [];
  for (let r = 0; r < bindRows(ctx.binds); r++) rows.push(translateTokens(tuple, ctx.translation(r)));
  return `${translateTokens(tokens.slice(0, open), ctx.translation())}${rows.join(', ')}${translateTokens(
    tokens.slice(close + 1),
    ctx.translation(),
  )}`;
}

export async function update(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  const cur = new Cursor(sig);
  cur.expect('UPDATE');
  await checkTarget(ctx, cur.name(), 'UPDATE');
  await checkReads(ctx, sig.slice(cur.index));
  const reader = await ctx.write(translateTokens(tokens, ctx.translation()));
  return counts(
    ['number of rows updated', 'number of multi-joined rows updated'],
    [countOf(reader), 0],
    STATEMENT_TYPE.UPDATE,
  );
}

export async function deleteRows(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  const cur = new Cursor(sig);
  cur.expect('DELETE');
  cur.expect('FROM');
  await checkTarget(ctx, cur.name(), 'DELETE');
  await checkReads(ctx, sig.slice(cur.index));
  const reader = await ctx.write(translateTokens(tokens, ctx.translation()));
  return counts(['number of rows deleted'], [countOf(reader)], STATEMENT_TYPE.DELETE);
}

export async function truncate(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const cur = new Cursor(significant(tokens));
  cur.expect('TRUNCATE');
  cur.accept('TABLE');
  const ifExists = cur.accept('IF', 'EXISTS');
  const parts = cur.name();
  if (ifExists && !(await findTable(ctx, parts))) return statementExecuted(STATEMENT_TYPE.DDL);
  const target = await checkTarget(ctx, parts, 'TRUNCATE');
  await ctx.write(`DELETE FROM ${quoteQualified(target.name)}`);
  return statementExecuted(STATEMENT_TYPE.DDL);
}

/**
 * MERGE: refuses a target row matched by two source rows (Snowflake's 100090) before running, then runs
 * DuckDB's MERGE with RETURNING merge_action to count inserts, updates and deletes.
 */
export async function merge(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  const cur = new Cursor(sig);
  cur.expect('MERGE');
  cur.expect('INTO');
  const targetStart = cur.index;
  const targetName = cur.name();
  const target = await requireTable(ctx, targetName);
  let targetAlias: string | undefined;
  cur.accept('AS');
  if (!cur.isWord('USING')) targetAlias = cur.ident();
  const targetEnd = cur.index;
  cur.expect('USING');
  const sourceStart = cur.index;
  const at = (word: string, from: number): number => {
    let depth = 0;
    for (let i = from; i < sig.length; i++) {
      const t = sig[i] as Token;
      if (t.text === '(') depth++;
      if (t.text === ')') depth--;
      if (depth === 0 && t.kind === 'word' && t.value === word) return i;
    }
    throw syntaxError(`syntax error line 1 at position 0 missing ${word}.`);
  };
  const onAt = at('ON', sourceStart);
  const whenAt = at('WHEN', onAt);
  await checkReads(ctx, [
    { kind: 'word', text: 'USING', value: 'USING', pos: -1 },
    ...sig.slice(sourceStart, onAt),
  ]);
  const clauses = sig.slice(whenAt).map((t) => t.value);
  const hasInsert = clauses.includes('INSERT');
  const hasUpdate = clauses.includes('UPDATE');
  const hasDelete = clauses.includes('DELETE');
  if (hasInsert) await checkTablePrivilegeIfTable(ctx, target, 'INSERT');
  if (hasUpdate) await checkTablePrivilegeIfTable(ctx, target, 'UPDATE');
  if (hasDelete) await checkTablePrivilegeIfTable(ctx, target, 'DELETE');

  const tr = (from: number, to: number) =>
    translateTokens(withBlanks(sig.slice(from, to)), ctx.translation());
  if (hasUpdate || hasDelete) {
    const targetRef = quoteIdent(targetAlias || (targetName.at(-1) as string));
    const duplicate = await ctx.read(
      `SELECT 1 FROM ${tr(targetStart, targetEnd)} JOIN ${tr(sourceStart, onAt)} ON ${tr(onAt + 1, whenAt)} GROUP BY ${targetRef}.rowid HAVING COUNT(*) > 1 LIMIT 1`,
    );
    if (duplicate.currentRowCount > 0) {
      throw new SnowflakeSqlError(
        '100090',
        '42P18',
        'Duplicate row detected during DML action\nRow Values: [...]',
      );
    }
  }
  const statement = translateTokens(tokens, ctx.translation()).replace(/;\s*$/, '');
  const reader = await ctx.write(`${statement} RETURNING merge_action`);
  const actions = reader.getRows().map((r) => String(r[0]));
  const names: string[] = [];
  const values: number[] = [];
  if (hasInsert) {
    names.push('number of rows inserted');
    values.push(actions.filter((a) => a === 'INSERT').length);
  }
  if (hasUpdate) {
    names.push('number of rows updated');
    values.push(actions.filter((a) => a === 'UPDATE').length);
  }
  if (hasDelete) {
    names.push('number of rows deleted');
    values.push(actions.filter((a) => a === 'DELETE').length);
  }
  return counts(names, values, STATEMENT_TYPE.MERGE);
}

async function checkTablePrivilegeIfTable(ctx: Ctx, target: TableLocation, privilege: string): Promise<void> {
  if (target.kind === 'table') await checkTablePrivilege(ctx.conn, ctx.session.role, target.name, privilege);
}
