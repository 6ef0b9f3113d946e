// A chunked historical load: CountSource splits a table larger than `pipeline.chunkRows` into ranges of
// its integer primary key and writes them as the Distributed Map's item file; each chunk is exported in a
// snapshot of its own (ExportChunk) and leaves a manifest of its files and counts in the stage;
// GatherChunks adds the chunks up for the ledger; LoadSnowflake loads every chunk into a copy of the
// target, closes each chunk's ledger, then swaps the copy in. The state carries keys and counts only.
import type { StepDeps } from '../deps';
import { chunkItems, chunkLabel, integerKeyRanges, type KeyRange } from '../domain/chunks';
import { CountMismatchError, InvalidInputError, PlanRecordError } from '../domain/errors';
import { CountLedger } from '../domain/ledger';
import type { ResolvedTable } from '../domain/table';
import { compareBounds } from '../domain/window';
import {
  type ChunkManifest,
  type ChunkPlan,
  chunkManifestSchema,
  type ExportOutput,
  type LoadOutput,
  type TableState,
  type TableWork,
} from './contract';
import { STEP_PREFIX_PATHS } from './registry';

/** Where a job keeps a table's chunk files: `<prefix>/staging/plans/<jobId>/<schema.name>/`. */
function chunksPrefix(deps: Pick<StepDeps, 'config'>, work: Pick<TableWork, 'jobId' | 'table'>): string {
  return `${deps.config.s3.prefix}/${STEP_PREFIX_PATHS.plans}/${work.jobId}/${encodeURIComponent(work.table)}`;
}

export function chunkItemsKey(
  deps: Pick<StepDeps, 'config'>,
  work: Pick<TableWork, 'jobId' | 'table'>,
): string {
  return `${chunksPrefix(deps, work)}/chunks.json`;
}

export function chunkManifestKey(
  deps: Pick<StepDeps, 'config'>,
  work: Pick<TableWork, 'jobId' | 'table'>,
  index: number,
): string {
  return `${chunksPrefix(deps, work)}/${chunkLabel(index)}.json`;
}

/**
 * Splits a historical load when the table's estimate exceeds `chunkRows` and its key is a single integer
 * column: the ranges go to the stage as the Map's item file. Null when the table loads in one piece.
 */
export async function planChunks(
  deps: StepDeps,
  work: TableWork,
  table: ResolvedTable,
): Promise<ChunkPlan | null> {
  const stats = await deps.ports.source.keyStats(table);
  if (stats === null) return null;
  const ranges = integerKeyRanges(stats, deps.config.pipeline.chunkRows);
  if (ranges.length < 2) return null;
  const itemsKey = chunkItemsKey(deps, work);
  await deps.ports.stage.putJson(itemsKey, chunkItems(ranges));
  return {
    count: ranges.length,
    bucket: deps.ports.stage.bucket,
    itemsKey,
    estimatedRows: stats.estimatedRows,
  };
}

/** `[from, to)` for messages. */
export function describeRange(range: KeyRange): string {
  return `[${range.from ?? '-∞'}, ${range.to ?? '+∞'})`;
}

/** Every chunk's manifest, in chunk order; a missing or malformed one is PlanRecordError naming it. */
export async function readManifests(deps: StepDeps, state: TableState): Promise<ChunkManifest[]> {
  const plan = state.count?.chunks;
  if (!plan) throw new InvalidInputError(`${state.work.table}: this load was not split into chunks`);
  const manifests: ChunkManifest[] = [];
  for (let index = 0; index < plan.count; index++) {
    const key = chunkManifestKey(deps, state.work, index);
    const parsed = chunkManifestSchema.safeParse(await deps.ports.stage.getJson<unknown>(key));
    if (!parsed.success || parsed.data.index !== index) {
      throw new PlanRecordError(
        `${state.work.table}: chunk ${index} of ${plan.count} left no manifest of its export at ${key}; its export did not finish. Start the historical pipeline again`,
      );
    }
    manifests.push(parsed.data);
  }
  return manifests;
}

/**
 * The chunks' exports added up, as one export of the whole table. Its bound is the earliest chunk's: the
 * first incremental window starts below every chunk's snapshot, so a row written during the load (in a
 * chunk exported before the write) is read again by the next incremental run.
 */
export async function gatherChunks(
  deps: StepDeps,
  state: TableState,
  table: ResolvedTable,
): Promise<ExportOutput> {
  const manifests = await readManifests(deps, state);
  const sum = (pick: (m: ChunkManifest) => number) => manifests.reduce((n, m) => n + pick(m), 0);
  let upper: string | null = null;
  for (const m of manifests) {
    if (m.upper !== null && (upper === null || compareBounds(m.upper, upper, table.cursorKind) < 0))
      upper = m.upper;
  }
  return {
    sourceCount: sum((m) => m.sourceCount),
    rows: sum((m) => m.rows),
    rawBytes: sum((m) => m.rawBytes),
    compressedBytes: sum((m) => m.compressedBytes),
    keys: [],
    upper,
    chunks: { count: manifests.length, files: sum((m) => m.keys.length) },
  };
}

/**
 * Loads every chunk into a copy of the target, one COPY a chunk, and closes each chunk's ledger (its
 * snapshot's count = rows exported = rows parsed = rows loaded) before the copy is swapped in, once it
 * holds exactly the rows the chunks loaded. A ledger that does not close fails the table naming the chunk
 * and the stage; the target then keeps its previous rows.
 */
export async function loadChunks(
  deps: StepDeps,
  state: TableState,
  table: ResolvedTable,
): Promise<LoadOutput> {
  const manifests = await readManifests(deps, state);
  const { warehouse } = deps.ports;
  const results = await warehouse.loadCopy(
    table,
    manifests.map((m) => m.keys),
  );
  manifests.forEach((m, i) => {
    const loaded = results[i];
    if (!loaded) throw new InvalidInputError(`${state.work.table}: chunk ${m.index} was not loaded`);
    const ledger = new CountLedger()
      .record('source', m.sourceCount)
      .record('exported', m.rows)
      .record('parsed', loaded.rowsParsed)
      .record('loaded', loaded.rowsLoaded);
    const divergence = ledger.firstDivergence();
    if (divergence) {
      throw new CountMismatchError(
        `${state.work.table}: chunk ${m.index} ${describeRange(m)}: counts do not close at stage '${divergence.stage}' (expected ${divergence.expected}, got ${divergence.actual}): ${ledger.describe()}; nothing was swapped, the target keeps its previous rows`,
      );
    }
  });
  const rowsParsed = results.reduce((n, r) => n + r.rowsParsed, 0);
  const rowsLoaded = results.reduce((n, r) => n + r.rowsLoaded, 0);
  await warehouse.swapInCopy(table, rowsLoaded);
  return {
    rowsParsed,
    rowsLoaded,
    inserted: null,
    updated: null,
    files: results.reduce((n, r) => n + r.files.length, 0),
  };
}
