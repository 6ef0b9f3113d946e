// The canonical text of a value of each target type: what both databases write for a column before it is
// hashed, so that equal values give equal text on either side. The adapters write each form in their own
// SQL (`adapters/postgres/checksum.ts`, `adapters/snowflake/checksum.ts`); the README's "Value
// reconciliation" table documents the same forms. A NULL is a field of its own (`~n`), never an empty text.
import type { ColumnInfo, TableSpec } from './table';
import { type TargetType, targetTypeOf } from './type-mapping';

/** Each target type's canonical text, in words. */
export const CANONICAL_FORMS: Readonly<Record<TargetType['kind'], string | null>> = {
  number:
    'sign, integer digits, then for a scale s > 0 a point and exactly s fraction digits (the column’s scale): exact, no exponent',
  float:
    '`NaN`, `inf`, `-inf`, `0` for either zero, else the exact binary value: sign, the integer significand m (2^52 ≤ m < 2^53, smaller for subnormals), `p`, the exponent e, with value m·2^e',
  boolean: '`t` or `f`',
  date: 'days since 1970-01-01 (negative before)',
  time: 'microseconds since midnight',
  timestamp_ntz: 'microseconds since 1970-01-01 00:00:00, the wall time read as UTC',
  timestamp_tz: 'microseconds since 1970-01-01 00:00:00 UTC (the instant; the offset is not compared)',
  array:
    'compact JSON: no blanks, elements in order, NULL elements as null (arrays of integers, booleans and text-like elements; not of numeric, float or JSON elements)',
  variant: null,
  varchar:
    'the text itself, as PostgreSQL writes it (char(n) with its padding, bytea as \\x hex, intervals in ISO 8601)',
};

/**
 * Array elements whose JSON a VARIANT re-renders (a number keeps its value, not its text: `1.50` reads back
 * `1.5`): an array of them has no canonical form yet.
 */
const RERENDERED_ELEMENTS = new Set(['numeric', 'money', 'float4', 'float8', 'json', 'jsonb']);

/** Whether a column's values are compared: every column but those whose type has no canonical form yet. */
export function comparable(
  column: Pick<ColumnInfo, 'name' | 'pgType' | 'baseType' | 'category'>,
  table: Pick<TableSpec, 'textColumns'>,
): boolean {
  const kind = targetTypeOf(column, table).kind;
  if (kind === 'array' && RERENDERED_ELEMENTS.has(column.baseType)) return false;
  return CANONICAL_FORMS[kind] !== null;
}
