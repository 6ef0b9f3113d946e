// A chunked historical load: CountSource splits a table larger than `pipeline.chunkRows` into ranges of
// the leading column of its primary key and writes them as the Distributed Maps' item file; each chunk is
// exported in a snapshot of its own (ExportChunk) and leaves a manifest of its files and counts in the
// stage; GatherChunks adds the chunks up for the ledger; PrepareCopy makes an empty copy of the target
// once; a second Distributed Map loads each chunk into the copy in an invocation of its own (LoadChunk),
// closes the chunk's ledger and leaves a record of its load; LoadSnowflake closes the table's ledger and
// swaps the copy in, once. A chunk that fails after its retries records why (ExportChunkFailed,
// LoadChunkFailed), and the table's failure event names it. The state carries keys and counts only.
import type { StepDeps } from '../deps';
import { chunkItems, chunkLabel, type KeyRange, keyRanges } from '../domain/chunks';
import { CountMismatchError, InvalidInputError, PlanRecordError } from '../domain/errors';
import { CountLedger } from '../domain/ledger';
import type { ResolvedTable } from '../domain/table';
import { compareBounds } from '../domain/window';
import {
  type ChunkFailure,
  type ChunkItem,
  type ChunkLoad,
  type ChunkManifest,
  type ChunkPlan,
  chunkFailureSchema,
  chunkLoadSchema,
  chunkManifestSchema,
  type ExportOutput,
  type LoadOutput,
  type SwapRecord,
  swapRecordSchema,
  type TableState,
  type TableWork,
} from './contract';
import { STEP_PREFIX_PATHS } from './registry';

/** Where a job keeps a table's files (chunks, swap, deletes): `<prefix>/staging/plans/<jobId>/<schema.name>/<name>`. */
function chunkFile(
  deps: Pick<StepDeps, 'config'>,
  work: Pick<TableWork, 'jobId' | 'table'>,
  name: string,
): string {
  return `${deps.config.s3.prefix}/${STEP_PREFIX_PATHS.plans}/${work.jobId}/${encodeURIComponent(work.table)}/${name}`;
}

type JobTable = Pick<TableWork, 'jobId' | 'table'>;
type ConfigOnly = Pick<StepDeps, 'config'>;

/** The Maps' item file: the chunks' ranges. */
export const chunkItemsKey = (deps: ConfigOnly, work: JobTable) => chunkFile(deps, work, 'chunks.json');

/** What ExportChunk leaves: the chunk's files, their rows, its counts and its snapshot's bound. */
export const chunkManifestKey = (deps: ConfigOnly, work: JobTable, index: number) =>
  chunkFile(deps, work, `${chunkLabel(index)}.json`);

/** What LoadChunk leaves once a chunk is in the copy: its counts, so a retry does not load it again. */
export const chunkLoadKey = (deps: ConfigOnly, work: JobTable, index: number) =>
  chunkFile(deps, work, `${chunkLabel(index)}.load.json`);

/** The first chunk that failed after its retries, as its Catch recorded it; later ones do not replace it. */
export const chunkFailureKey = (deps: ConfigOnly, work: JobTable) => chunkFile(deps, work, 'failure.json');

/** The keys a soft or propagating delete check found gone, kept before it changes the target (`check-deletes.ts`). */
export const deletesIntentKey = (deps: ConfigOnly, work: JobTable) => chunkFile(deps, work, 'deletes.json');

/** The swap's record: what both tables held before it, then that it was done. */
export const swapRecordKey = (deps: ConfigOnly, work: JobTable) => chunkFile(deps, work, 'swap.json');

/**
 * Splits a historical load when the table's estimate exceeds `chunkRows`: the ranges go to the stage as
 * the Maps' item file. Null when the table loads in one piece; when that is because its key cannot be
 * split or it has no statistics, a log line says why and what to do.
 */
export async function planChunks(
  deps: StepDeps,
  work: TableWork,
  table: ResolvedTable,
): Promise<ChunkPlan | null> {
  const stats = await deps.ports.source.keyStats(table);
  if (stats.kind === 'none') {
    deps.logger.info(`${work.table}: the historical load runs in one piece: ${stats.reason}`);
    return null;
  }
  const ranges = keyRanges(stats, deps.config.pipeline.chunkRows);
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

function planOf(state: TableState): ChunkPlan {
  const plan = state.count?.chunks;
  if (!plan) throw new InvalidInputError(`${state.work.table}: this load was not split into chunks`);
  return plan;
}

/** One chunk's manifest; a missing or malformed one is PlanRecordError naming it. */
async function readManifest(deps: StepDeps, state: TableState, index: number): Promise<ChunkManifest> {
  const plan = planOf(state);
  const key = chunkManifestKey(deps, state.work, index);
  const parsed = chunkManifestSchema.safeParse(await deps.ports.stage.getJson<unknown>(key));
  if (!parsed.success || parsed.data.index !== index) {
    throw new PlanRecordError(
      `${state.work.table}: chunk ${index} of ${plan.count} left no manifest of its export at ${key}; its export did not finish. Start the historical pipeline again`,
    );
  }
  return parsed.data;
}

/** Every chunk's manifest, in chunk order. */
export async function readManifests(deps: StepDeps, state: TableState): Promise<ChunkManifest[]> {
  const plan = planOf(state);
  const manifests: ChunkManifest[] = [];
  for (let index = 0; index < plan.count; index++) manifests.push(await readManifest(deps, state, index));
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

/** The chunk a task inside a chunks' Map was handed. */
function chunkOf(state: TableState, stateName: string): ChunkItem {
  if (!state.chunk) throw new InvalidInputError(`${state.work.table}: ${stateName} was handed no chunk`);
  return state.chunk;
}

/**
 * Loads one chunk's files into the copy and closes its ledger (its snapshot's count = rows exported =
 * rows parsed = rows loaded), then records the load. The COPY is not forced: a retry after a COPY that
 * committed finds its files in the copy's load metadata and Snowflake skips them, so no file is loaded
 * twice; their rows count as the export's manifest gives them, and the copy's own count at the swap
 * checks the sum. A chunk already recorded is not loaded again.
 */
export async function loadChunk(
  deps: StepDeps,
  state: TableState,
  table: ResolvedTable,
  stateName: string,
): Promise<{ index: number }> {
  const chunk = chunkOf(state, stateName);
  const recordKey = chunkLoadKey(deps, state.work, chunk.index);
  if (chunkLoadSchema.safeParse(await deps.ports.stage.getJson<unknown>(recordKey)).success) {
    return { index: chunk.index };
  }
  const m = await readManifest(deps, state, chunk.index);
  const result = await deps.ports.warehouse.loadIntoCopy(table, m.keys);
  let skippedRows = 0;
  let skippedFiles = 0;
  result.files.forEach((f, i) => {
    if (f.status !== 'LOAD_SKIPPED') return;
    skippedFiles++;
    skippedRows += m.fileRows[i] ?? 0;
  });
  const parsed = result.rowsParsed + skippedRows;
  const loaded = result.rowsLoaded + skippedRows;
  const ledger = new CountLedger()
    .record('source', m.sourceCount)
    .record('exported', m.rows)
    .record('parsed', parsed)
    .record('loaded', loaded);
  const divergence = ledger.firstDivergence();
  if (divergence) {
    throw new CountMismatchError(
      `${state.work.table}: chunk ${m.index} ${describeRange(m)}: counts do not close at stage '${divergence.stage}' (expected ${divergence.expected}, got ${divergence.actual}): ${ledger.describe()}; nothing was swapped, the target keeps its previous rows`,
    );
  }
  const record: ChunkLoad = {
    index: m.index,
    rowsParsed: parsed,
    rowsLoaded: loaded,
    files: m.keys.length,
    skippedFiles,
  };
  await deps.ports.stage.putJson(recordKey, record);
  return { index: chunk.index };
}

/**
 * A chunk's Catch: records the chunk and its error where the table's failure event reads it (the first
 * failure is kept), so the audit event and the alert name the chunk rather than only the Map's failure.
 */
export async function recordChunkFailure(
  deps: StepDeps,
  state: TableState,
  stateName: string,
  failedState: ChunkFailure['state'],
): Promise<null> {
  const chunk = chunkOf(state, stateName);
  const failure: ChunkFailure = {
    index: chunk.index,
    from: chunk.from,
    to: chunk.to,
    state: failedState,
    error: state.error?.Error ?? 'UnknownError',
    ...(state.error?.Cause !== undefined ? { cause: state.error.Cause } : {}),
  };
  await deps.ports.stage.putJsonIf(chunkFailureKey(deps, state.work), failure, null);
  return null;
}

/** The chunk that failed a chunked load, as its Catch recorded it; null when none did (or not chunked). */
export async function readChunkFailure(deps: StepDeps, state: TableState): Promise<ChunkFailure | null> {
  if (state.count?.chunks === undefined || state.error === undefined) return null;
  const parsed = chunkFailureSchema.safeParse(
    await deps.ports.stage.getJson<unknown>(chunkFailureKey(deps, state.work)),
  );
  return parsed.success ? parsed.data : null;
}

/**
 * Every chunk's load added up; the table's ledger closes (the chunks' sum = what the copy holds) and the
 * copy is swapped in, once. The swap is recorded before (what both tables held) and after: a retry
 * that finds it done does not swap back, one that finds only the intent tells from the two tables'
 * counts whether the swap happened, and refuses when the counts cannot tell.
 */
export async function swapChunks(
  deps: StepDeps,
  state: TableState,
  table: ResolvedTable,
): Promise<LoadOutput> {
  const plan = planOf(state);
  let rowsParsed = 0;
  let rowsLoaded = 0;
  let files = 0;
  for (let index = 0; index < plan.count; index++) {
    const key = chunkLoadKey(deps, state.work, index);
    const parsed = chunkLoadSchema.safeParse(await deps.ports.stage.getJson<unknown>(key));
    if (!parsed.success || parsed.data.index !== index) {
      throw new PlanRecordError(
        `${state.work.table}: chunk ${index} of ${plan.count} left no record of its load at ${key}; nothing was swapped, the target keeps its previous rows. Start the historical pipeline again`,
      );
    }
    rowsParsed += parsed.data.rowsParsed;
    rowsLoaded += parsed.data.rowsLoaded;
    files += parsed.data.files;
  }
  const output: LoadOutput = { rowsParsed, rowsLoaded, inserted: null, updated: null, files };
  const { warehouse, stage } = deps.ports;
  const recordKey = swapRecordKey(deps, state.work);
  const read = swapRecordSchema.safeParse(await stage.getJson<unknown>(recordKey));
  const record: SwapRecord | null = read.success ? read.data : null;
  if (record?.phase === 'swapped') {
    await warehouse.dropCopy(table);
    return output;
  }
  const counts = await warehouse.countCopy(table);
  if (record !== null && record.copyRows !== rowsLoaded) {
    throw new PlanRecordError(
      `${state.work.table}: the swap's record expects a copy of ${record.copyRows} rows but the chunks loaded ${rowsLoaded}; nothing was swapped. Start the historical pipeline again`,
    );
  }
  if (record?.phase === 'swapping') {
    // An earlier attempt meant to swap and may have: the counts say which table is which, if they differ.
    const swapped = counts.target === record.copyRows && counts.copy === record.targetRows;
    const unswapped = counts.target === record.targetRows && counts.copy === record.copyRows;
    if (swapped === unswapped) {
      throw new PlanRecordError(
        `${state.work.table}: an earlier attempt began the swap and it cannot be told whether it happened (the target holds ${counts.target} rows, the copy ${counts.copy ?? 'none'}, before the swap they held ${record.targetRows} and ${record.copyRows}); nothing was changed. Check the target and start the historical pipeline again`,
      );
    }
    if (swapped) {
      await stage.putJson(recordKey, { ...record, phase: 'swapped' } satisfies SwapRecord);
      await warehouse.dropCopy(table);
      return output;
    }
  } else if (counts.copy !== rowsLoaded) {
    throw new CountMismatchError(
      `${state.work.table}: the loaded copy holds ${counts.copy ?? 'no'} rows but the chunks loaded ${rowsLoaded}; nothing was swapped, the target keeps its previous rows`,
    );
  }
  const intent: SwapRecord = { phase: 'swapping', copyRows: rowsLoaded, targetRows: counts.target };
  await stage.putJson(recordKey, intent);
  await warehouse.swapInCopy(table);
  await stage.putJson(recordKey, { ...intent, phase: 'swapped' } satisfies SwapRecord);
  await warehouse.dropCopy(table);
  return output;
}
