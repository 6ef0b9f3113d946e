// Value reconciliation of one table's slice between the source and the target, through the ports: the
// columns that have a canonical form are compared (`domain/canonical.ts`), bisected to keys
// (`domain/reconcile.ts`); what the result could not compare is named beside it.
import { createHash } from 'node:crypto';
import { comparable } from '../domain/canonical';
import { encodeFields, type ReconcileOptions, type ReconcileResult, reconcile } from '../domain/reconcile';
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

/**
 * Of keys the target holds in a slice and the source does not, those the source still holds elsewhere
 * (updated since, so their cursor moved past the slice) and those it holds nowhere (deleted).
 */
export async function classifyExtraKeys(
  ports: Pick<Ports, 'source'>,
  table: ResolvedTable,
  keys: readonly (readonly (string | null)[])[],
): Promise<{ movedOn: (readonly (string | null)[])[]; gone: (readonly (string | null)[])[] }> {
  if (keys.length === 0) return { movedOn: [], gone: [] };
  const texts = keys.map((k) => encodeFields(k));
  const found = new Set<string>();
  // A key's segment at full length is the MD5 of its canonical text: the source reads just those rows.
  for (let i = 0; i < texts.length; i += KEYS_PER_LOOKUP) {
    const batch = texts.slice(i, i + KEYS_PER_LOOKUP);
    const rows = await ports.source.rowDigests(
      table,
      { kind: 'all' },
      {
        columns: [...table.primaryKey],
        segments: batch.map((t) => createHash('md5').update(t).digest('hex')),
      },
    );
    for (const r of rows) found.add(r.key);
  }
  return {
    movedOn: keys.filter((_, i) => found.has(texts[i] as string)),
    gone: keys.filter((_, i) => !found.has(texts[i] as string)),
  };
}

const KEYS_PER_LOOKUP = 500;
