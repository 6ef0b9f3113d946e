// Value reconciliation of one table's slice between the source and the target, through the ports: every
// column in its canonical form (`domain/canonical.ts`), bisected to keys (`domain/reconcile.ts`).
import { type ReconcileOptions, type ReconcileResult, reconcile } from '../domain/reconcile';
import type { ResolvedTable } from '../domain/table';
import type { Ports, Slice } from '../ports';

export interface ValueComparison extends ReconcileResult {
  /** The columns compared, in table order. */
  readonly columns: readonly string[];
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
  const columns = options.keysOnly ? [...table.primaryKey] : table.columns.map((c) => c.name);
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
  return { ...result, columns };
}
