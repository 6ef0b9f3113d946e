// The canonical text of a value of each target type: what both databases write for a column before it is
// hashed, so that equal values give equal text on either side. The adapters write each form in their own
// SQL (`adapters/postgres/checksum.ts`, `adapters/snowflake/checksum.ts`); the README's "Value
// reconciliation" table documents the same forms. A NULL is a field of its own (`~n`), never an empty text.
import { type ColumnInfo, columnsNamed, type ResolvedTable } from './table';
import type { TargetType } from './type-mapping';

/**
 * A JSON value's canonical text: what Snowflake's TO_JSON writes for the VARIANT or ARRAY that PARSE_JSON
 * read from the export's JSON, and what the source computes from that same JSON.
 */
const CANONICAL_JSON =
  'compact JSON (no blanks), members and elements in the order written; a number as a VARIANT holds it: up to 38 digits (37 after the point) exact without trailing fraction zeros, otherwise a double in 16 significant digits with a signed exponent of at least two digits (`1.912000000000000e+02`); strings in JSON’s shortest escapes';

/** Each target type's canonical text, in words. */
export const CANONICAL_FORMS: Readonly<Record<TargetType['kind'], string>> = {
  number:
    'sign, integer digits, then for a scale s > 0 a point and exactly s fraction digits (the column’s scale): exact, no exponent',
  float:
    '`NaN`, `inf`, `-inf`, `0` for either zero, else the exact binary value: sign, the integer significand m (2^52 ≤ m < 2^53, smaller for subnormals), `p`, the exponent e, with value m·2^e',
  boolean: '`t` or `f`',
  date: 'days since 1970-01-01 (negative before)',
  time: 'microseconds since midnight',
  timestamp_ntz: 'microseconds since 1970-01-01 00:00:00, the wall time read as UTC',
  timestamp_tz: 'microseconds since 1970-01-01 00:00:00 UTC (the instant; the offset is not compared)',
  array: `the JSON the export wrote (nested for more dimensions, NULL elements as null), in the ${CANONICAL_JSON.replace('compact JSON', 'canonical JSON form:')}`,
  variant: CANONICAL_JSON,
  varchar:
    'the text itself, as PostgreSQL writes it (char(n) with its padding, bytea as \\x hex, intervals in ISO 8601)',
};

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
