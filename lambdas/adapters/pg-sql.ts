// SQL text for the PostgreSQL source: quoted identifiers, the session settings that make COPY's CSV
// round-trip, which column types Tally transfers, the WHERE clause of each slice, and the reads that
// choose the upper bound of a window open above.
import { escapeIdentifier, escapeLiteral } from 'pg';
import { InvalidInputError } from '../domain/errors';
import type { ColumnInfo, ResolvedTable } from '../domain/table';
import { type CursorKind, validateWindow, type Window } from '../domain/window';
import type { Slice } from '../ports';

/** A double-quoted identifier; embedded quotes are doubled, so any name is read as a name. */
export const ident = escapeIdentifier;

export function qualified(t: Pick<ResolvedTable, 'schema' | 'name'>): string {
  return `${ident(t.schema)}.${ident(t.name)}`;
}

/**
 * Output settings applied inside every transaction that reads rows, so text forms do not depend on the
 * server's or the role's defaults: UTC timestamps with an explicit offset, ISO dates, ISO 8601 intervals,
 * hex bytea and floats printed with enough digits to read back the same value.
 */
export const OUTPUT_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'iso_8601'",
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL extra_float_digits = 3',
] as const;

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

/** The SELECT list of an export: every column in catalog order, money as a plain number. */
export function selectList(table: ResolvedTable): string {
  return table.columns
    .map((c) => {
      const name = ident(c.name);
      if (c.baseType === 'money') return `${name}::numeric${c.category === 'A' ? '[]' : ''} AS ${name}`;
      return name;
    })
    .join(', ');
}

/** How a bound value is put into the SQL: a bind parameter, or an escaped literal (COPY takes no binds). */
export type ValueRenderer = (value: string) => string;

export function bindRenderer(params: unknown[]): ValueRenderer {
  return (value) => {
    params.push(value);
    return `$${params.length}`;
  };
}

export const literalRenderer: ValueRenderer = (value) => escapeLiteral(value);

function columnNamed(table: ResolvedTable, name: string): ColumnInfo {
  const c = table.columns.find((col) => col.name === name);
  if (!c) throw new InvalidInputError(`column ${name} is not a column of ${table.schema}.${table.name}`);
  return c;
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

/** The WHERE condition of a slice: TRUE, a primary-key range, or a window on the cursor column. */
export function sliceCondition(table: ResolvedTable, slice: Slice, render: ValueRenderer): string {
  switch (slice.kind) {
    case 'all':
      return 'TRUE';
    case 'keyRange': {
      const [key, ...rest] = table.primaryKey;
      const column = key === undefined ? undefined : columnNamed(table, key);
      if (!column || rest.length > 0 || cursorKindOf(column) !== 'integer') {
        throw new InvalidInputError(
          `${table.schema}.${table.name} cannot be split by key range: that needs a single-column integer primary key, it has (${table.primaryKey.join(', ')}); export it whole or by window`,
        );
      }
      return rangeCondition(column, slice.range, render);
    }
    case 'window':
      return rangeCondition(columnNamed(table, table.cursorColumn), slice.window, render);
  }
}

/** `to_char` pattern of a UTC instant with microseconds; unlike `::text` it ignores DateStyle. */
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** The database clock, to the microsecond. */
export const CLOCK_SQL = `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${ISO_UTC}) AS t0`;

/**
 * Given the clock read `$1` and a lag in milliseconds `$2`: `least($1 - lag, the earliest start of any
 * other transaction open in this database)`, as the cursor column can hold it (a date cursor is floored
 * to its day), and how many sessions of this database the current user may not see. Any open
 * transaction counts, not only those with a `backend_xid` or `backend_xmin`: one that has not written
 * yet (say, idle after BEGIN) has neither, yet may still write a row stamped with its `now()`.
 * Autovacuum never writes rows of user tables, so it does not hold the bound back.
 */
export function timestampUpperSql(cursor: ColumnInfo): string {
  const utc = `least($1::timestamptz - $2::int8 * interval '1 millisecond', (SELECT min(xact_start) FROM open WHERE backend_type IS DISTINCT FROM 'autovacuum worker')) AT TIME ZONE 'UTC'`;
  const bound = cursor.baseType === 'date' ? `date_trunc('day', ${utc})` : utc;
  return `WITH open AS (
    SELECT xact_start, backend_type FROM pg_catalog.pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid())
  SELECT to_char(${bound}, ${ISO_UTC}) AS upper,
         (SELECT count(*) FROM open WHERE backend_type IS NULL)::int AS hidden`;
}

/**
 * The other transactions open in this database, each named by its backend and start time, and the
 * sessions the current user may not see (`hidden`). Autovacuum is left out for the reason above.
 */
export const OPEN_TRANSACTIONS_SQL = `
  SELECT pid, to_char(xact_start AT TIME ZONE 'UTC', ${ISO_UTC}) AS started, backend_type IS NULL AS hidden
  FROM pg_catalog.pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND backend_type IS DISTINCT FROM 'autovacuum worker'
    AND (xact_start IS NOT NULL OR backend_type IS NULL)`;

/** How many of the transactions `$1` (pids) / `$2` (start times, as OPEN_TRANSACTIONS_SQL gives them) are still open. */
export const STILL_OPEN_SQL = `
  SELECT count(*)::int AS n
  FROM pg_catalog.pg_stat_activity a
  JOIN unnest($1::int[], $2::text[]) AS o(pid, started)
    ON a.pid = o.pid AND to_char(a.xact_start AT TIME ZONE 'UTC', ${ISO_UTC}) = o.started`;

/** One past the largest value of an integer cursor, computed without overflowing its type. */
export function integerUpperSql(table: ResolvedTable): string {
  return `SELECT (max(${ident(table.cursorColumn)})::numeric + 1)::text AS upper FROM ${qualified(table)}`;
}
