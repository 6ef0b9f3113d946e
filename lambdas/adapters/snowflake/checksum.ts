// The target side of value reconciliation: each column's canonical text (`domain/canonical.ts`) in
// Snowflake's SQL, and the segment sums and row digests computed over it inside Snowflake. Only functions
// Snowflake documents as deterministic are used: MD5 (https://docs.snowflake.com/en/sql-reference/functions/md5),
// TO_NUMBER with a hexadecimal format model (https://docs.snowflake.com/en/sql-reference/sql-format-models),
// DATEDIFF, DATE_PART with EPOCH_MICROSECOND, TO_JSON, LN, POWER, FLOOR, TRUNC, ABS, LPAD and REPLACE.

import { type CanonicalDialect, rowTextSql } from '../../domain/canonical';
import { InvalidInputError } from '../../domain/errors';
import {
  ROW_HASH_HEX_DIGITS,
  type RowDigest,
  type RowRequest,
  type SegmentRequest,
  type SegmentSum,
  segmentCondition,
} from '../../domain/reconcile';
import type { ColumnInfo, ResolvedTable } from '../../domain/table';
import { targetTypeOf } from '../../domain/type-mapping';
import type { Slice } from '../../ports';
import type { Bind } from './session';
import { targetColumn } from './sql';

function numberText(x: string, scale: number): string {
  const sign = `CASE WHEN ${x} < 0 THEN '-' ELSE '' END`;
  const whole = `TO_VARCHAR(CAST(TRUNC(ABS(${x})) AS NUMBER(38,0)))`;
  if (scale === 0) return `${sign} || ${whole}`;
  const fraction = `LPAD(TO_VARCHAR(CAST((ABS(${x}) - TRUNC(ABS(${x}))) * 1${'0'.repeat(scale)} AS NUMBER(38,0))), ${scale}, '0')`;
  return `${sign} || ${whole} || '.' || ${fraction}`;
}

/** A FLOAT's exact binary value as text, computed as `adapters/postgres/checksum.ts` does. */
export function floatText(x: string): string {
  const a = `ABS(${x})`;
  const e1 = `GREATEST(FLOOR(LN(${a}) / LN(2)) - 52, -1074)`;
  const ratio = `(${a} / POWER(2, ${e1}))`;
  const e = `GREATEST(${e1} + CASE WHEN ${ratio} >= 9007199254740992 THEN 1 WHEN ${ratio} < 4503599627370496 THEN -1 ELSE 0 END, -1074)`;
  return [
    `CASE WHEN ${x} = 'NaN'::FLOAT THEN 'NaN'`,
    `WHEN ${x} = 'inf'::FLOAT THEN 'inf'`,
    `WHEN ${x} = '-inf'::FLOAT THEN '-inf'`,
    `WHEN ${x} = 0 THEN '0'`,
    `ELSE CASE WHEN ${x} < 0 THEN '-' ELSE '' END || TO_VARCHAR(CAST(${a} / POWER(2, ${e}) AS NUMBER(38,0))) || 'p' || TO_VARCHAR(CAST(${e} AS NUMBER(38,0))) END`,
  ].join(' ');
}

/** The canonical text of a target column's non-null value, in Snowflake. */
export function canonicalValue(c: ColumnInfo, table: ResolvedTable): string {
  const name = targetColumn(c.name);
  const type = targetTypeOf(c, table);
  switch (type.kind) {
    case 'varchar':
      return name;
    case 'number':
      return numberText(name, type.scale);
    case 'float':
      return floatText(name);
    case 'boolean':
      return `CASE WHEN ${name} THEN 't' ELSE 'f' END`;
    case 'date':
      return `TO_VARCHAR(DATEDIFF(DAY, '1970-01-01'::DATE, ${name}))`;
    case 'time':
      return `TO_VARCHAR(DATEDIFF(MICROSECOND, '00:00:00'::TIME, ${name}))`;
    case 'timestamp_ntz':
    case 'timestamp_tz':
      return `TO_VARCHAR(DATE_PART(EPOCH_MICROSECOND, ${name}))`;
    case 'array':
      return `TO_JSON(${name})`;
    case 'variant':
      throw new InvalidInputError(`column ${c.name} (${c.pgType}) has no canonical form to compare yet`);
  }
}

/** The Snowflake side of the row text (`domain/canonical.ts`). */
function dialect(table: ResolvedTable): CanonicalDialect {
  return {
    column: (c) => targetColumn(c.name),
    value: (c) => canonicalValue(c, table),
    md5: (text) => `MD5(${text})`,
  };
}

/** The WHERE condition of a slice on the target's cursor column, with its binds. */
export function sliceWhere(table: ResolvedTable, slice: Slice): { condition: string; binds: Bind[] } {
  const binds: Bind[] = [];
  const conditions: string[] = [];
  if (slice.kind === 'keys') {
    // A chunk's key range is an export's unit, not a comparison's: a chunked table is compared whole.
    throw new InvalidInputError(
      `${table.schema}.${table.name}: values are compared over a window or the whole table, not over a chunk's key range`,
    );
  }
  if (slice.kind === 'window') {
    const column = targetColumn(table.cursorColumn);
    if (slice.window.from !== null) {
      conditions.push(`${column} >= ?`);
      binds.push(slice.window.from);
    }
    if (slice.window.to !== null) {
      conditions.push(`${column} < ?`);
      binds.push(slice.window.to);
    }
  }
  return { condition: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', binds };
}

/** The statement of one level's segment sums; the sum leaves as text (it passes 2^53). */
export function segmentSumsSql(
  target: string,
  table: ResolvedTable,
  slice: Slice,
  request: SegmentRequest,
): { sql: string; binds: Bind[] } {
  const { keyMd5, rowText } = rowTextSql(dialect(table), table, request.columns);
  const { condition, binds } = sliceWhere(table, slice);
  const hash = `TO_NUMBER(LEFT(MD5(${rowText}), ${ROW_HASH_HEX_DIGITS}), '${'X'.repeat(ROW_HASH_HEX_DIGITS)}')`;
  const sql = `SELECT LEFT(${keyMd5}, ${request.digits}) AS "SEGMENT", COUNT(*) AS "N", TO_VARCHAR(SUM(${hash})) AS "S" FROM ${target} WHERE (${condition}) AND (${segmentCondition(keyMd5, request.within)}) GROUP BY 1`;
  return { sql, binds };
}

export function rowDigestsSql(
  target: string,
  table: ResolvedTable,
  slice: Slice,
  request: RowRequest,
): { sql: string; binds: Bind[]; columns: number } {
  const { keyText, keyMd5, fields, rowText } = rowTextSql(dialect(table), table, request.columns);
  const { condition, binds } = sliceWhere(table, slice);
  const digests = fields.map((f, i) => `MD5(${f}) AS "C${i}"`).join(', ');
  const sql = `SELECT ${keyText} AS "K", MD5(${rowText}) AS "R"${digests ? `, ${digests}` : ''} FROM ${target} WHERE (${condition}) AND (${segmentCondition(keyMd5, request.segments)})`;
  return { sql, binds, columns: fields.length };
}

export function segmentRows(rows: readonly Record<string, unknown>[]): SegmentSum[] {
  return rows.map((r) => ({ segment: String(r.SEGMENT), rows: Number(r.N), sum: String(r.S) }));
}

export function digestRows(rows: readonly Record<string, unknown>[], columns: number): RowDigest[] {
  return rows.map((r) => ({
    key: String(r.K),
    row: String(r.R),
    columns: Array.from({ length: columns }, (_, i) => String(r[`C${i}`])),
  }));
}

/** The canonical text of a row's primary key, as `rowDigestsSql` answers it (`K`): the delete check's key. */
export function keyTextSql(table: ResolvedTable): string {
  return rowTextSql(dialect(table), table, table.primaryKey).keyText;
}
