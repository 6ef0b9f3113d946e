// The target side of the delete check: the column a soft-deleting table marks rows in, and the UPDATE
// that marks and the DELETE that removes the rows of given keys, by the keys' canonical text
// (`checksum.ts`) bound one parameter a key, in batches, within the slice that was compared.
// ALTER TABLE ... ADD COLUMN IF NOT EXISTS: https://docs.snowflake.com/en/sql-reference/sql/alter-table;
// UPDATE: https://docs.snowflake.com/en/sql-reference/sql/update;
// DELETE: https://docs.snowflake.com/en/sql-reference/sql/delete.
import { DELETED_MARK_COLUMN } from '../../domain/deletes';
import type { ResolvedTable } from '../../domain/table';
import type { Slice } from '../../ports';
import { keyTextSql, sliceWhere } from './checksum';
import type { Bind } from './session';
import { quoted } from './sql';

/** Keys bound in one statement: far below what a statement's text and binds may hold. */
export const KEYS_PER_STATEMENT = 1000;

export const DELETED_MARK = quoted(DELETED_MARK_COLUMN);

/** The table's rows as the comparison and the counts see them: in soft mode, the unmarked ones. */
export function visibleRows(target: string, table: Pick<ResolvedTable, 'deletes'>): string {
  if (table.deletes !== 'soft') return target;
  return `(SELECT * FROM ${target} WHERE ${DELETED_MARK} IS NULL)`;
}

export function addMarkSql(target: string): string {
  return `ALTER TABLE ${target} ADD COLUMN IF NOT EXISTS ${DELETED_MARK} TIMESTAMP_TZ`;
}

function keyCondition(
  table: ResolvedTable,
  slice: Slice,
  keys: readonly string[],
): { where: string; binds: Bind[] } {
  const { condition, binds } = sliceWhere(table, slice);
  const where = `(${condition}) AND ${keyTextSql(table)} IN (${keys.map(() => '?').join(', ')})`;
  return { where, binds: [...binds, ...keys] };
}

/**
 * The statement that handles the rows of `keys` in `slice`: `mark` sets the mark on those not marked yet
 * (at the statement's time), `delete` removes them.
 */
export function changeKeysSql(
  action: 'mark' | 'delete',
  target: string,
  table: ResolvedTable,
  slice: Slice,
  keys: readonly string[],
): { sql: string; binds: Bind[] } {
  const { where, binds } = keyCondition(table, slice, keys);
  const sql =
    action === 'mark'
      ? `UPDATE ${target} SET ${DELETED_MARK} = CURRENT_TIMESTAMP() WHERE ${where} AND ${DELETED_MARK} IS NULL`
      : `DELETE FROM ${target} WHERE ${where}`;
  return { sql, binds };
}
