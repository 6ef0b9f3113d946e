// Value reconciliation of one table's slice between the source and the target, through the ports: the
// columns that have a canonical form are compared (`domain/canonical.ts`), bisected to keys
// (`domain/reconcile.ts`); what the result could not compare is named beside it.
import { comparable } from '../domain/canonical';
import { type ReconcileOptions, type ReconcileResult, reconcile } from '../domain/reconcile';
import type { ResolvedTable } from '../domain/table';
import type { Ports, Slice } from '../ports';

export interface ValueComparison extends ReconcileResult {
  /** The columns compared, in table order. */
  readonly columns: readonly string[];
  /** Columns left out: their type has no canonical form yet. */
  readonly skipped: readonly string[];
}

export type CompareOptions = Omit<ReconcileOptions, 'columns'> & {
  /** Compare only the primary key: finds missing and extra keys (deletes), not changed values. */
  readonly keysOnly?: boolean;
};

export async function compareValues(
  ports: Pick<Ports, 'source' | 'warehouse'>,
  table: ResolvedTable,
  slice: Slice,
  options: CompareOptions = {},
): Promise<ValueComparison> {
  const columns = options.keysOnly
    ? [...table.primaryKey]
    : table.columns.filter((c) => comparable(c, table)).map((c) => c.name);
  const skipped = options.keysOnly
    ? []
    : table.columns.filter((c) => !comparable(c, table)).map((c) => c.name);
  const result = await reconcile(
    {
      segments: (request) => ports.source.segmentSums(table, slice, request),
      rows: (request) => ports.source.rowDigests(table, slice, request),
    },
    {
      segments: (request) => ports.warehouse.segmentSums(table, slice, request),
      rows: (request) => ports.warehouse.rowDigests(table, slice, request),
    },
    { ...options, columns },
  );
  return { ...result, columns, skipped };
}
