// The canonical text of a value of each target type: what both databases write for a column before it is
// hashed, so that equal values give equal text on either side. The adapters write each form in their own
// SQL (`adapters/postgres/checksum.ts`, `adapters/snowflake/checksum.ts`); the README's "Value
// reconciliation" table documents the same forms. A NULL is a field of its own (`~n`), never an empty text.
import { type ColumnInfo, columnsNamed, type ResolvedTable, type TableSpec } from './table';
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

/** The field separator of a row's canonical text, and the escapes that keep the text decodable. */
export const FIELD_SEPARATOR = '|';
export const NULL_FIELD = '~n';
/** Each field's escapes, applied in this order: `~` first, so that no escape is escaped again. */
const ESCAPES: readonly (readonly [string, string])[] = [
  ['~', '~~'],
  [FIELD_SEPARATOR, '~p'],
];

/** Escapes one field's canonical text: `~` → `~~`, `|` → `~p`; so a row's text decodes to its fields. */
export function escapeField(text: string | null): string {
  if (text === null) return NULL_FIELD;
  return ESCAPES.reduce((t, [from, to]) => t.replaceAll(from, to), text);
}

export function encodeFields(fields: readonly (string | null)[]): string {
  return fields.map(escapeField).join(FIELD_SEPARATOR);
}

/** The fields of a canonical text, NULL as null. */
export function decodeFields(text: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let current = '';
  let isNull = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '~') {
      const next = text[i + 1];
      if (next === '~') current += '~';
      else if (next === 'p') current += FIELD_SEPARATOR;
      else if (next === 'n') isNull = true;
      i++;
    } else if (ch === FIELD_SEPARATOR) {
      fields.push(isNull ? null : current);
      current = '';
      isNull = false;
    } else {
      current += ch;
    }
  }
  fields.push(isNull ? null : current);
  return fields;
}

/** What the two databases' checksum statements write differently: the rest of their SQL is shared. */
export interface CanonicalDialect {
  /** The column as the statement names it. */
  column(c: ColumnInfo): string;
  /** The canonical text of the column's non-null value. */
  value(c: ColumnInfo): string;
  /** The lower-case hex MD5 of a text's UTF-8 bytes. */
  md5(text: string): string;
}

/** A column's field of the row text, as SQL both dialects take (`REPLACE`, `||`, `CASE`): `escapeField`. */
export function fieldSql(dialect: CanonicalDialect, c: ColumnInfo): string {
  const escaped = ESCAPES.reduce((v, [from, to]) => `REPLACE(${v}, '${from}', '${to}')`, dialect.value(c));
  return `CASE WHEN ${dialect.column(c)} IS NULL THEN '${NULL_FIELD}' ELSE ${escaped} END`;
}

const joinedSql = (fields: readonly string[]) => fields.join(` || '${FIELD_SEPARATOR}' || `);

/** The key's canonical text, the MD5 that places the row in a segment, each column's field and the row's text. */
export function rowTextSql(dialect: CanonicalDialect, table: ResolvedTable, columns: readonly string[]) {
  const keyText = joinedSql(columnsNamed(table, table.primaryKey).map((c) => fieldSql(dialect, c)));
  const fields = columnsNamed(table, columns).map((c) => fieldSql(dialect, c));
  return { keyText, keyMd5: dialect.md5(keyText), fields, rowText: joinedSql(fields) };
}
