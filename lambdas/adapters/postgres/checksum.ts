// The source side of value reconciliation: each column's canonical text (`domain/canonical.ts`) in
// PostgreSQL's SQL, and the segment sums and row digests computed over it inside the database, in the
// same snapshot settings as the export, so that the text of a value is the text the export wrote.

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
import type { PgConnections } from './connection';
import { BEGIN_SNAPSHOT, bindRenderer, ident, qualified, sliceCondition } from './sql';

/** An exact decimal as the canonical number text: sign, integer digits, and `scale` fraction digits. */
function numberText(x: string, scale: number): string {
  const sign = `CASE WHEN ${x} < 0 THEN '-' ELSE '' END`;
  const whole = `trunc(abs(${x}))::text`;
  if (scale === 0) return `${sign} || ${whole}`;
  const fraction = `lpad(((abs(${x}) - trunc(abs(${x}))) * 1${'0'.repeat(scale)})::numeric(38,0)::text, ${scale}, '0')`;
  return `${sign} || ${whole} || '.' || ${fraction}`;
}

/**
 * A double's exact binary value as text, by arithmetic that is exact in IEEE 754 (a power of two scales
 * without rounding): the exponent is estimated from the logarithm and corrected by one either way.
 */
export function floatText(x: string): string {
  const a = `abs(${x})`;
  const two = '2::float8';
  const e1 = `greatest(floor(ln(${a}) / ln(${two})) - 52, -1074)`;
  const ratio = `(${a} / power(${two}, ${e1}))`;
  const e = `greatest(${e1} + CASE WHEN ${ratio} >= 9007199254740992::float8 THEN 1 WHEN ${ratio} < 4503599627370496::float8 THEN -1 ELSE 0 END, -1074)`;
  return [
    `CASE WHEN ${x} = 'NaN'::float8 THEN 'NaN'`,
    `WHEN ${x} = 'Infinity'::float8 THEN 'inf'`,
    `WHEN ${x} = '-Infinity'::float8 THEN '-inf'`,
    `WHEN ${x} = 0 THEN '0'`,
    `ELSE CASE WHEN ${x} < 0 THEN '-' ELSE '' END || (${a} / power(${two}, ${e}))::bigint::text || 'p' || (${e})::bigint::text END`,
  ].join(' ');
}

const epochMicros = (x: string) => `(extract(epoch from ${x}) * 1000000)::bigint::text`;

/** The canonical text of a column's non-null value, in PostgreSQL. */
export function canonicalValue(c: ColumnInfo, table: ResolvedTable): string {
  const name = ident(c.name);
  const type = targetTypeOf(c, table);
  const money = c.baseType === 'money';
  const plain = money ? `${name}::numeric${c.category === 'A' ? '[]' : ''}` : name;
  switch (type.kind) {
    case 'varchar':
      // format's %s is the type's output function: char(n) keeps its padding, which ::text drops.
      return `format('%s', ${plain})`;
    case 'number':
      return numberText(`${plain}::numeric`, type.scale);
    case 'float':
      // The export wrote the shortest text of the value, which Snowflake read as a double: a real's
      // canonical value is that double, not the real widened.
      return floatText(`(${name})::text::float8`);
    case 'boolean':
      return `CASE WHEN ${name} THEN 't' ELSE 'f' END`;
    case 'date':
      return `(${name} - DATE '1970-01-01')::text`;
    case 'time':
    case 'timestamp_ntz':
    case 'timestamp_tz':
      return epochMicros(name);
    case 'array':
      return `array_to_json(${plain})::text`;
    case 'variant':
      throw new InvalidInputError(`column ${c.name} (${c.pgType}) has no canonical form to compare yet`);
  }
}

/** The PostgreSQL side of the row text (`domain/canonical.ts`). */
function dialect(table: ResolvedTable): CanonicalDialect {
  return {
    column: (c) => ident(c.name),
    value: (c) => canonicalValue(c, table),
    md5: (text) => `md5(convert_to(${text}, 'UTF8'))`,
  };
}

export async function segmentSums(
  connections: PgConnections,
  table: ResolvedTable,
  slice: Slice,
  request: SegmentRequest,
): Promise<SegmentSum[]> {
  const pg = dialect(table);
  const { keyMd5, rowText } = rowTextSql(pg, table, request.columns);
  const params: unknown[] = [];
  const condition = sliceCondition(table, slice, bindRenderer(params));
  const hash = `('x' || left(${pg.md5(rowText)}, ${ROW_HASH_HEX_DIGITS}))::bit(${ROW_HASH_HEX_DIGITS * 4})::bigint`;
  const sql = `SELECT left(${keyMd5}, ${request.digits}) AS segment, count(*) AS n, sum(${hash})::text AS s FROM ${qualified(table)} WHERE (${condition}) AND (${segmentCondition(keyMd5, request.within)}) GROUP BY 1`;
  return connections.withClient(async (client) => {
    await client.query(BEGIN_SNAPSHOT);
    const result = await client.query<{ segment: string; n: string; s: string }>(sql, params);
    await client.query('COMMIT');
    return result.rows.map((r) => ({ segment: r.segment, rows: Number(r.n), sum: r.s }));
  });
}

export async function rowDigests(
  connections: PgConnections,
  table: ResolvedTable,
  slice: Slice,
  request: RowRequest,
): Promise<RowDigest[]> {
  const pg = dialect(table);
  const { keyText, keyMd5, fields, rowText } = rowTextSql(pg, table, request.columns);
  const params: unknown[] = [];
  const condition = sliceCondition(table, slice, bindRenderer(params));
  const digests = fields.map((f, i) => `${pg.md5(f)} AS c${i}`).join(', ');
  const sql = `SELECT ${keyText} AS k, ${pg.md5(rowText)} AS r${digests ? `, ${digests}` : ''} FROM ${qualified(table)} WHERE (${condition}) AND (${segmentCondition(keyMd5, request.segments)})`;
  return connections.withClient(async (client) => {
    await client.query(BEGIN_SNAPSHOT);
    const result = await client.query<Record<string, string>>(sql, params);
    await client.query('COMMIT');
    return result.rows.map((r) => ({
      key: String(r.k),
      row: String(r.r),
      columns: fields.map((_, i) => String(r[`c${i}`])),
    }));
  });
}

/** The canonical text of a row's primary key, as `rowDigests` answers it (`k`): the delete check's key. */
export function keyTextSql(table: ResolvedTable): string {
  return rowTextSql(dialect(table), table, table.primaryKey).keyText;
}
