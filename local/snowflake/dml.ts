// Queries and DML: SELECT with Snowflake's column types and names, INSERT (with array binds), UPDATE,
// DELETE and TRUNCATE, each answering with Snowflake's result row, checked against grants, on a warehouse.
import type { DuckDBResultReader } from '@duckdb/node-api';
import { type Ctx, findTable, type TableLocation } from './context';
import { describeColumns } from './ddl/tables';
import { encodeValue } from './encode';
import type { ColumnMeta, QueryResult } from './engine-types';
import { STATEMENT_TYPE } from './engine-types';
import { unsupported } from './errors';
import { requireWarehouse } from './privileges';
import { checkColumnList, checkColumnReferences, readName } from './reserved';
import { columnMeta, countColumn, parseCanonical, type SfType, storedAs, typeFromDuck } from './sf-types';
import { Cursor, quoteQualified, significant, type Token } from './sql-tokens';
import { bindRows, hasArrayBinds, translateTokens, withSnowflakeColumnNames } from './sql-translate';
import { statementExecuted } from './status';
import { checkReads, checkTarget, tableRefs } from './table-refs';

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
  checkColumnReferences(sig);
  const sources = await checkReads(ctx, sig);
  // A query that reads no table (constants, context functions) needs no warehouse; one that does, does.
  // Names are resolved first: a missing table is a compilation error, before anything runs.
  if (tableRefs(sig).length > 0) await requireWarehouse(ctx);
  const sql = translateTokens(withSnowflakeColumnNames(tokens), ctx.translation());
  const reader = await ctx.read(sql);
  return encodeResult(ctx, reader, sources, STATEMENT_TYPE.SELECT);
}

function countOf(reader: DuckDBResultReader): number {
  const v = reader.getRows()[0]?.[0];
  return v === undefined || v === null ? 0 : Number(v);
}

export function counts(
  names: readonly string[],
  values: readonly number[],
  statementTypeId: number,
): QueryResult {
  return { columns: names.map(countColumn), rows: [values.map(String)], statementTypeId };
}

export async function insert(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  const cur = new Cursor(sig);
  cur.expect('INSERT');
  const overwrite = cur.accept('OVERWRITE');
  if (cur.isWord('ALL', 'FIRST')) throw unsupported('multi-table INSERT');
  cur.expect('INTO');
  const name = readName(cur);
  checkColumnReferences(sig);
  if (cur.peek()?.text === '(' && !cur.isWord('SELECT'))
    checkColumnList(new Cursor(sig.slice(cur.index)).parenGroup());
  const target = await checkTarget(ctx, name, 'INSERT');
  await checkReads(ctx, sig.slice(cur.index));
  await requireWarehouse(ctx);
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
  const name = readName(cur);
  checkColumnReferences(sig);
  const target = await checkTarget(ctx, name, 'UPDATE');
  await checkReads(ctx, sig.slice(cur.index));
  await requireWarehouse(ctx);
  if (target.kind === 'table') await ctx.lockTable(target.name);
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
  const name = readName(cur);
  checkColumnReferences(sig);
  const target = await checkTarget(ctx, name, 'DELETE');
  await checkReads(ctx, sig.slice(cur.index));
  await requireWarehouse(ctx);
  if (target.kind === 'table') await ctx.lockTable(target.name);
  const reader = await ctx.write(translateTokens(tokens, ctx.translation()));
  return counts(['number of rows deleted'], [countOf(reader)], STATEMENT_TYPE.DELETE);
}

export async function truncate(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const cur = new Cursor(significant(tokens));
  cur.expect('TRUNCATE');
  cur.accept('TABLE');
  const ifExists = cur.accept('IF', 'EXISTS');
  const parts = readName(cur);
  if (ifExists && !(await findTable(ctx, parts))) return statementExecuted(STATEMENT_TYPE.DDL);
  const target = await checkTarget(ctx, parts, 'TRUNCATE');
  if (target.kind === 'table') await ctx.lockTable(target.name);
  await ctx.write(`DELETE FROM ${quoteQualified(target.name)}`);
  return statementExecuted(STATEMENT_TYPE.DDL);
}
