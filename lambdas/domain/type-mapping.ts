// Which Snowflake type holds each PostgreSQL column, chosen so that the CSV PostgreSQL writes loads
// without a transformation and reads back equal to the source value by value, and what each target type
// cannot hold. The export checks a window against these limits before anything is loaded; the README's
// "Snowflake type mapping" table documents the same choices.
import type { ColumnInfo, TableSpec } from './table';

export type TargetType =
  | { readonly kind: 'number'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'float' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'date' }
  | { readonly kind: 'time' }
  | { readonly kind: 'timestamp_ntz' }
  | { readonly kind: 'timestamp_tz' }
  | { readonly kind: 'variant' }
  | { readonly kind: 'array' }
  | { readonly kind: 'varchar'; readonly length: number };

/** Snowflake's largest VARCHAR, in bytes; declaring it costs no storage. */
export const MAX_VARCHAR_BYTES = 134_217_728;
/**
 * "A VARIANT value can have a maximum size of up to 128 MB of uncompressed data"
 * (https://docs.snowflake.com/en/sql-reference/data-types-semistructured); an ARRAY is one.
 */
export const MAX_VARIANT_BYTES = 134_217_728;
/** Snowflake's NUMBER holds at most 38 digits, at most 37 of them after the point. */
const MAX_PRECISION = 38;
const MAX_SCALE = 37;

const INTEGERS = new Set(['int2', 'int4', 'int8', 'oid']);
const FLOATS = new Set(['float4', 'float8']);
const TEXT: TargetType = { kind: 'varchar', length: MAX_VARCHAR_BYTES };

/**
 * The target type of a source column. A column the table lists in `textColumns` travels as its exact
 * PostgreSQL text, whatever its type: the way to carry values the mapped type cannot hold.
 */
export function targetTypeOf(
  column: Pick<ColumnInfo, 'name' | 'pgType' | 'baseType' | 'category'>,
  table: Pick<TableSpec, 'textColumns'> = {},
): TargetType {
  if (table.textColumns?.includes(column.name)) return TEXT;
  // Arrays are exported as JSON (`[1,null,-3]`, nested for more dimensions) and land queryable.
  if (column.category === 'A') return { kind: 'array' };
  const base = column.baseType;
  if (INTEGERS.has(base)) return { kind: 'number', precision: 38, scale: 0 };
  if (base === 'numeric') {
    const m = /^numeric\((\d+)(?:,\s*(-?\d+))?\)$/.exec(column.pgType);
    const precision = Number(m?.[1]);
    const scale = Number(m?.[2] ?? 0);
    // Unconstrained numeric (up to 131072 digits), a negative scale or one NUMBER cannot hold: the exact
    // text is kept.
    if (!m || precision > MAX_PRECISION || scale < 0 || scale > precision || scale > MAX_SCALE) return TEXT;
    return { kind: 'number', precision, scale };
  }
  if (base === 'money') return { kind: 'number', precision: 38, scale: 2 };
  if (FLOATS.has(base)) return { kind: 'float' };
  if (base === 'bool') return { kind: 'boolean' };
  if (base === 'date') return { kind: 'date' };
  if (base === 'time') return { kind: 'time' };
  if (base === 'timestamp') return { kind: 'timestamp_ntz' };
  if (base === 'timestamptz') return { kind: 'timestamp_tz' };
  // jsonb is normalized JSON: VARIANT makes it queryable. json keeps its exact text (spacing, key order
  // and duplicate keys, which VARIANT would drop).
  if (base === 'jsonb') return { kind: 'variant' };
  if (base === 'uuid') return { kind: 'varchar', length: 36 };
  // Everything else travels as text: char/varchar/text, enums, interval (ISO 8601), timetz, inet,
  // macaddr, bit strings, xml, json, and bytea as PostgreSQL's hex text `\x...`.
  return TEXT;
}

/**
 * What a source value must not be for its target type to hold it, as the export checks it:
 * `finite-year-1-to-9999` for dates and timestamps (no infinity, no BC, no five-digit year),
 * `before-24h` for times, `not-nan` for a NUMBER fed by PostgreSQL numeric, and the byte length of a
 * VARCHAR's text or a VARIANT's or ARRAY's JSON.
 */
export type TargetLimit =
  | { readonly kind: 'finite-year-1-to-9999' }
  | { readonly kind: 'before-24h' }
  | { readonly kind: 'not-nan' }
  | { readonly kind: 'max-bytes'; readonly bytes: number; readonly of: 'VARCHAR' | 'VARIANT' };

export function targetLimitOf(column: Pick<ColumnInfo, 'baseType'>, type: TargetType): TargetLimit | null {
  switch (type.kind) {
    case 'date':
    case 'timestamp_ntz':
    case 'timestamp_tz':
      return { kind: 'finite-year-1-to-9999' };
    case 'time':
      return { kind: 'before-24h' };
    case 'number':
      return column.baseType === 'numeric' ? { kind: 'not-nan' } : null;
    case 'varchar':
      return { kind: 'max-bytes', bytes: type.length, of: 'VARCHAR' };
    case 'variant':
    case 'array':
      return { kind: 'max-bytes', bytes: MAX_VARIANT_BYTES, of: 'VARIANT' };
    default:
      return null;
  }
}
