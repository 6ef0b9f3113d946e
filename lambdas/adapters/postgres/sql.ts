// SQL text for the PostgreSQL source: quoted identifiers, the session settings that make COPY's CSV
// round-trip, which column types Tally transfers, and the WHERE clause of each slice.
import { escapeIdentifier } from 'pg';
import { MAX_BOUND_LENGTH } from '../../domain/chunks';
import { InvalidInputError } from '../../domain/errors';
import { type ColumnInfo, columnNamed, type ResolvedTable } from '../../domain/table';
import { type TargetLimit, targetLimitOf, targetTypeOf } from '../../domain/type-mapping';
import { type CursorKind, validateWindow, type Window } from '../../domain/window';
import type { Slice } from '../../ports';

/** A double-quoted identifier; embedded quotes are doubled, so any name is read as a name. */
export const ident = escapeIdentifier;

export function qualified(t: Pick<ResolvedTable, 'schema' | 'name'>): string {
  return `${ident(t.schema)}.${ident(t.name)}`;
}

/**
 * Output settings applied inside every transaction that reads rows, so text forms do not depend on the
 * server's or the role's defaults: UTF-8 whatever the database's encoding (pg asks for it at sign-in; the
 * snapshot pins it), UTC timestamps with an explicit offset, ISO dates, ISO 8601 intervals, hex bytea
 * and floats printed with enough digits to read back the same value.
 */
export const OUTPUT_SETTINGS = [
  "SET LOCAL client_encoding = 'UTF8'",
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'iso_8601'",
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL extra_float_digits = 3',
] as const;

/** Opens the transaction every read runs in: one snapshot, read only, with fixed output settings. */
export const BEGIN_SNAPSHOT = ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...OUTPUT_SETTINGS].join(
  '; ',
);

/** Scalar base types Tally writes as PostgreSQL's own text form (under OUTPUT_SETTINGS). */
const TRANSFERABLE_BASE_TYPES = new Set([
  'bool',
  'int2',
  'int4',
  'int8',
  'oid',
  'numeric',
  'money',
  'float4',
  'float8',
  'text',
  'varchar',
  'bpchar',
  'char',
  'name',
  'citext',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'json',
  'jsonb',
  'bytea',
  'xml',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
]);

const TIMESTAMP_CURSOR_TYPES = new Set(['timestamp', 'timestamptz', 'date']);
const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** A column as the catalog query returns it, plus what the transferability check needs. */
export interface CatalogColumn extends ColumnInfo {
  /** For an array: the element type's category (E for an enum element); otherwise equal to category. */
  readonly elementCategory: string;
}

/** Null when the column can be transferred, otherwise why not. */
export function untransferableReason(c: CatalogColumn): string | null {
  const enumLike = c.elementCategory === 'E';
  if (enumLike || TRANSFERABLE_BASE_TYPES.has(c.baseType)) return null;
  return `type ${c.pgType} has no CSV mapping in Tally`;
}

export function cursorKindOf(c: ColumnInfo): CursorKind | null {
  if (c.category === 'A') return null;
  if (TIMESTAMP_CURSOR_TYPES.has(c.baseType)) return 'timestamp';
  if (INTEGER_TYPES.has(c.baseType)) return 'integer';
  return null;
}

/**
 * The SELECT list of an export: every column in catalog order, money as a plain number, an array as JSON,
 * and a float's infinities spelt as Snowflake documents them (`inf`, `-inf`; PostgreSQL writes
 * `Infinity`) unless the column travels as text.
 */
export function selectList(table: ResolvedTable): string {
  return table.columns
    .map((c) => {
      const name = ident(c.name);
      const value = exportedValue(c, table);
      return value === name ? name : `${value} AS ${name}`;
    })
    .join(', ');
}

/** The expression the export writes for a column (`selectList`). */
function exportedValue(c: ColumnInfo, table: ResolvedTable): string {
  const name = ident(c.name);
  const kind = targetTypeOf(c, table).kind;
  const plain = c.baseType === 'money' ? `${name}::numeric${c.category === 'A' ? '[]' : ''}` : name;
  // array_to_json writes NULL elements as null, nests dimensions and quotes what JSON has no number for
  // (NaN, Infinity), so every value is JSON an ARRAY column takes.
  if (kind === 'array') return `array_to_json(${plain})`;
  if (kind === 'float') {
    return `CASE ${name} WHEN 'Infinity' THEN 'inf' WHEN '-Infinity' THEN '-inf' ELSE ${name}::text END`;
  }
  return plain;
}

/** Source types whose text can be longer than a VARCHAR holds, with the length of that text. */
const LONG_TEXT: Readonly<Record<string, (column: string) => string>> = {
  text: (c) => `octet_length(${c})`,
  varchar: (c) => `octet_length(${c})`,
  citext: (c) => `octet_length(${c}::text)`,
  json: (c) => `octet_length(${c}::text)`,
  jsonb: (c) => `octet_length(${c}::text)`,
  xml: (c) => `octet_length(${c}::text)`,
  // `\x` and two hex digits a byte.
  bytea: (c) => `(octet_length(${c}) * 2 + 2)`,
};

/** A check of one column against what its target type can hold, as a condition true for a bad value. */
export interface LimitCheck {
  readonly column: ColumnInfo;
  readonly limit: TargetLimit;
  readonly condition: string;
}

/** The checks a window's values must pass before they are exported (`domain/type-mapping.ts`). */
export function limitChecks(table: ResolvedTable): LimitCheck[] {
  const checks: LimitCheck[] = [];
  for (const column of table.columns) {
    const limit = targetLimitOf(column, targetTypeOf(column, table));
    if (limit === null) continue;
    const name = ident(column.name);
    const cast = column.baseType;
    let condition: string | null = null;
    if (limit.kind === 'finite-year-1-to-9999') {
      condition = `NOT isfinite(${name}) OR ${name} < '0001-01-01'::${cast} OR ${name} >= '10000-01-01'::${cast}`;
    } else if (limit.kind === 'before-24h') {
      condition = `${name} = '24:00:00'::time`;
    } else if (limit.kind === 'not-nan') {
      condition = `${name} = 'NaN'::numeric`;
    } else {
      // An array's length is that of the text the export writes: its JSON, or its literal as text.
      const length =
        column.category === 'A'
          ? () => `octet_length((${exportedValue(column, table)})::text)`
          : LONG_TEXT[column.baseType];
      if (length) condition = `${length(name)} > ${limit.bytes}`;
    }
    if (condition !== null) checks.push({ column, limit, condition });
  }
  return checks;
}

/** How a bound value is put into the SQL: a bind parameter, or a setting bound as one (for COPY). */
export type ValueRenderer = (value: string) => string;

export function bindRenderer(params: unknown[]): ValueRenderer {
  return (value) => {
    params.push(value);
    return `$${params.length}`;
  };
}

/**
 * For COPY, which takes no bind parameters: each value becomes a setting of the transaction, set by
 * `settingsStatement` with the values bound, and the condition reads it with `current_setting`, so no
 * value is ever part of the SQL text (and the comparison, a stable expression, still uses the index).
 */
export function settingRenderer(values: string[]): ValueRenderer {
  return (value) => {
    values.push(value);
    return `current_setting('tally.bound_${values.length}')`;
  };
}

/** The statement that sets what `settingRenderer` collected, local to the transaction; null for none. */
export function settingsStatement(values: readonly string[]): { text: string; values: string[] } | null {
  if (values.length === 0) return null;
  const sets = values.map((_, i) => `set_config('tally.bound_${i + 1}', $${i + 1}, true)`);
  return { text: `SELECT ${sets.join(', ')}`, values: [...values] };
}

function rangeCondition(column: ColumnInfo, range: Window, render: ValueRenderer): string {
  const kind = cursorKindOf(column);
  if (kind === null) {
    throw new InvalidInputError(
      `column ${column.name} (${column.pgType}) cannot bound a range: use a timestamp, date or integer column`,
    );
  }
  let checked: Window;
  try {
    checked = validateWindow(range, kind);
  } catch (err) {
    throw new InvalidInputError(`invalid range on ${column.name}: ${(err as Error).message}`, { cause: err });
  }
  // Casting the bound to the column's own type (one of a known few) keeps the comparison on its index.
  const cast = column.baseType;
  const name = ident(column.name);
  const parts: string[] = [];
  if (checked.from !== null) parts.push(`${name} >= ${render(checked.from)}::${cast}`);
  if (checked.to !== null) parts.push(`${name} < ${render(checked.to)}::${cast}`);
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

/**
 * Types whose leading key column a historical load may split into ranges: each has a default btree order
 * (with the column's collation for text), and its text form casts back to the same value.
 */
export const SPLITTABLE_KEY_TYPES: ReadonlySet<string> = new Set([
  'int2',
  'int4',
  'int8',
  'numeric',
  'text',
  'varchar',
  'bpchar',
  'uuid',
  'date',
  'timestamp',
  'timestamptz',
]);

/**
 * The leading column of a table's primary key when a historical load may split it into ranges (its type
 * is one of SPLITTABLE_KEY_TYPES, not an array); otherwise why not.
 */
export function splitKeyColumn(table: ResolvedTable): ColumnInfo | { readonly reason: string } {
  const name = table.primaryKey[0];
  const column = table.columns.find((c) => c.name === name);
  if (!column) return { reason: `its primary key's column ${name} is not among its columns` };
  if (column.category === 'A' || !SPLITTABLE_KEY_TYPES.has(column.baseType)) {
    return {
      reason: `the leading column of its primary key, "${column.name}", has type ${column.pgType}, which Tally does not split (it splits ${[...SPLITTABLE_KEY_TYPES].join(', ')})`,
    };
  }
  return column;
}

/**
 * `from <= key < to` on the leading key column, compared in the column's own type and collation: the
 * bound is cast to the column's base type (one of a fixed few) and takes the column's collation.
 */
function keyRangeCondition(table: ResolvedTable, range: Window, render: ValueRenderer): string {
  const key = splitKeyColumn(table);
  if ('reason' in key) {
    throw new InvalidInputError(
      `${table.schema}.${table.name} cannot be split into key ranges: ${key.reason}`,
    );
  }
  const name = ident(key.name);
  const cast = key.baseType;
  const parts: string[] = [];
  for (const [bound, op] of [
    [range.from, '>='],
    [range.to, '<'],
  ] as const) {
    if (bound === null) continue;
    if (bound.includes('\0') || bound.length > MAX_BOUND_LENGTH) {
      throw new InvalidInputError(
        `invalid key range on ${key.name}: a bound must be at most ${MAX_BOUND_LENGTH} characters with no NUL`,
      );
    }
    parts.push(`${name} ${op} ${render(bound)}::${cast}`);
  }
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

/** The WHERE condition of a slice: TRUE, a window on the cursor column, or a range of the leading key. */
export function sliceCondition(table: ResolvedTable, slice: Slice, render: ValueRenderer): string {
  switch (slice.kind) {
    case 'all':
      return 'TRUE';
    case 'window':
      return rangeCondition(columnNamed(table, table.cursorColumn), slice.window, render);
    case 'keys':
      return keyRangeCondition(table, slice.range, render);
  }
}
