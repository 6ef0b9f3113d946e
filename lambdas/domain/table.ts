// What a configured table is, before and after it has been checked against the source catalog.
import type { DeleteMode } from './deletes';
import { InvalidInputError } from './errors';

export interface TableSpec {
  /** PostgreSQL schema; defaults to `public` where configured without one. */
  readonly schema: string;
  readonly name: string;
  /** Primary-key columns, in key order. */
  readonly primaryKey: readonly string[];
  /** The column whose value marks a row as new or changed (e.g. `updated_at`). */
  readonly cursorColumn: string;
  /** Target table name in Snowflake; defaults to the upper-cased source name. */
  readonly targetName?: string;
  /**
   * Columns carried as their exact PostgreSQL text (a VARCHAR), whatever their type: for values the
   * mapped Snowflake type cannot hold (an infinite date, NaN in a numeric), or jsonb kept as written.
   */
  readonly textColumns?: readonly string[];
  /**
   * What the delete check does with keys only the target holds (`deletes.ts`); in 'soft' mode the
   * target's marked rows are left out of its counts and checksums. Unset: 'off'.
   */
  readonly deletes?: DeleteMode;
}

/** A column as the source catalog describes it. */
export interface ColumnInfo {
  readonly name: string;
  /** `format_type()` text, e.g. `numeric(20,6)`, `timestamp with time zone`, `integer[]`. */
  readonly pgType: string;
  /** PostgreSQL's `typcategory` letter: A array, B boolean, D date/time, E enum, N numeric, S string, U user... */
  readonly category: string;
  /** Base type name (`udt_name` without a leading underscore for arrays), e.g. `int4`, `timestamptz`. */
  readonly baseType: string;
  readonly nullable: boolean;
}

/** A table that exists, with every configured column confirmed by the catalog. */
export interface ResolvedTable extends TableSpec {
  readonly columns: readonly ColumnInfo[];
  readonly cursorKind: 'timestamp' | 'integer';
  readonly targetName: string;
}

export function qualifiedName(t: Pick<TableSpec, 'schema' | 'name'>): string {
  return `${t.schema}.${t.name}`;
}

/** The target table's name in Snowflake: the configured `targetName`, else the upper-cased source name. */
export function targetNameOf(spec: Pick<TableSpec, 'name' | 'targetName'>): string {
  return spec.targetName ?? spec.name.toUpperCase();
}

/** The column of that name, or an InvalidInputError naming it and the table. */
export function columnNamed(
  table: Pick<ResolvedTable, 'schema' | 'name' | 'columns'>,
  name: string,
): ColumnInfo {
  const c = table.columns.find((col) => col.name === name);
  if (!c) throw new InvalidInputError(`column ${name} is not a column of ${table.schema}.${table.name}`);
  return c;
}

/** The columns of these names, in the order given. */
export function columnsNamed(
  table: Pick<ResolvedTable, 'schema' | 'name' | 'columns'>,
  names: readonly string[],
): ColumnInfo[] {
  return names.map((n) => columnNamed(table, n));
}
