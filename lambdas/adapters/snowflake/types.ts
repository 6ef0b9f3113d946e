// Which Snowflake column type holds each PostgreSQL type, chosen so that the CSV the PostgreSQL exporter
// writes loads without a transformation and reads back equal to the source value by value.
// The README's "Snowflake type mapping" table documents the same choices.
import type { ColumnInfo } from '../../domain/table';

const INTEGERS = new Set(['int2', 'int4', 'int8', 'oid', 'smallint', 'integer', 'bigint']);
const FLOATS = new Set(['float4', 'float8', 'real', 'double precision']);
/** Snowflake's NUMBER holds at most 38 digits. */
const MAX_PRECISION = 38;

/** The Snowflake column type for a source column (without NOT NULL). */
export function snowflakeType(column: Pick<ColumnInfo, 'pgType' | 'baseType' | 'category'>): string {
  // Arrays keep PostgreSQL's literal (`{1,NULL,-3}`): not JSON, so VARIANT would refuse them.
  if (column.category === 'A') return 'VARCHAR';
  const base = column.baseType.toLowerCase();
  if (INTEGERS.has(base)) return 'NUMBER(38,0)';
  if (base === 'numeric') {
    const m = /^numeric\((\d+)(?:,\s*(-?\d+))?\)$/.exec(column.pgType);
    const precision = Number(m?.[1]);
    const scale = Number(m?.[2] ?? 0);
    // Unconstrained numeric (up to 131072 digits, and NaN) fits no NUMBER: its exact text is kept.
    if (!m || precision > MAX_PRECISION || scale < 0 || scale > precision) return 'VARCHAR';
    return `NUMBER(${precision},${scale})`;
  }
  if (base === 'money') return 'NUMBER(38,2)';
  if (FLOATS.has(base)) return 'FLOAT';
  if (base === 'bool' || base === 'boolean') return 'BOOLEAN';
  if (base === 'date') return 'DATE';
  if (base === 'time') return 'TIME(6)';
  if (base === 'timestamp') return 'TIMESTAMP_NTZ(6)';
  if (base === 'timestamptz') return 'TIMESTAMP_TZ(6)';
  // jsonb is normalized JSON: VARIANT makes it queryable. json keeps its exact text (spacing, key order
  // and duplicate keys, which VARIANT would drop).
  if (base === 'jsonb') return 'VARIANT';
  if (base === 'uuid') return 'VARCHAR(36)';
  // Everything else travels as text: char/varchar/text, enums, interval (ISO 8601), timetz, inet,
  // macaddr, bit strings, xml, json, and bytea as PostgreSQL's hex text `\x...` (Snowflake's HEX binary
  // format has no prefix; TO_BINARY(SUBSTR(col, 3), 'HEX') gives the bytes).
  return 'VARCHAR';
}
