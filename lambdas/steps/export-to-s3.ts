// ExportToS3: streams the table or window as compressed CSV (gzip or zstd) into the stage and reports the upper bound it read
// up to. Keys are fixed by job, table and window, so a retry overwrites its own files instead of adding new ones.
// The same function exports one chunk of a chunked historical load (ExportChunk) and adds the chunks up
// once all are exported (GatherChunks), and records a chunk that failed after its retries, in its
// export or in its load (ExportChunkFailed, LoadChunkFailed): see `chunks.ts`.
import { effectiveCompression } from '../adapters/compression';
import type { StepDeps } from '../deps';
import { chunkLabel } from '../domain/chunks';
import { InvalidInputError } from '../domain/errors';
import { windowLabel } from '../domain/window';
import type { Slice } from '../ports';
import { chunkManifestKey, gatherChunks, recordChunkFailure } from './chunks';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { ChunkManifest, ExportOutput, TableEvent, TableWork } from './contract';

/** The states this function runs, as the registry names them. */
export const EXPORT_STATES = {
  whole: 'ExportToS3',
  chunk: 'ExportChunk',
  gather: 'GatherChunks',
  exportChunkFailed: 'ExportChunkFailed',
  loadChunkFailed: 'LoadChunkFailed',
} as const;

export async function exportToS3(
  event: TableEvent,
  deps: StepDeps,
): Promise<ExportOutput | { index: number } | null> {
  const { state, stateName } = event;
  const { work } = state;
  if (stateName === EXPORT_STATES.exportChunkFailed) {
    return recordChunkFailure(deps, state, stateName, 'ExportChunk');
  }
  if (stateName === EXPORT_STATES.loadChunkFailed) {
    return recordChunkFailure(deps, state, stateName, 'LoadChunk');
  }
  const table = await resolvedTable(deps, work);
  if (stateName === EXPORT_STATES.gather) return gatherChunks(deps, state, table);
  if (stateName === EXPORT_STATES.chunk) {
    const chunk = state.chunk;
    if (!chunk) throw new InvalidInputError(`${work.table}: ${stateName} was handed no chunk`);
    const { fileRows, ...result } = await exportSlice(
      deps,
      work,
      table,
      { kind: 'keys', range: chunk },
      chunkLabel(chunk.index),
    );
    const manifest: ChunkManifest = { ...chunk, ...result, fileRows };
    await deps.ports.stage.putJson(chunkManifestKey(deps, work, chunk.index), manifest);
    // The Map gathers one output per chunk: only the index, so ten thousand chunks stay small.
    return { index: chunk.index };
  }
  const { fileRows: _, ...whole } = await exportSlice(deps, work, table, sliceOf(state), null);
  return whole;
}

async function exportSlice(
  deps: StepDeps,
  work: TableWork,
  table: Awaited<ReturnType<typeof resolvedTable>>,
  slice: Slice,
  chunk: string | null,
): Promise<ExportOutput & { fileRows: number[] }> {
  const { maxFileBytes, compression, lagSeconds } = deps.config.pipeline;
  // The source fixes the window's upper bound in the export's own snapshot; a historical export records
  // the same bound, so the first incremental run starts from what this snapshot could see.
  const prefix = exportPrefix(deps, work);
  const result = await deps.ports.source.export(table, slice, deps.ports.stage, {
    keyPrefix: chunk === null ? prefix : `${prefix}/${chunk}`,
    maxFileBytes,
    compression: effectiveCompression(compression),
    lagMs: lagSeconds * 1000,
    boundCursor: work.pipeline === 'historical',
  });
  return {
    sourceCount: result.sourceCount,
    rows: result.rows,
    rawBytes: result.rawBytes,
    compressedBytes: result.compressedBytes,
    keys: result.files.map((f) => f.key),
    fileRows: result.files.map((f) => f.rows),
    upper: result.upper ?? null,
  };
}

export function exportPrefix(deps: StepDeps, work: TableWork): string {
  return `${deps.config.s3.prefix}/staging/${work.pipeline}/${work.table}/${work.jobId}/${windowLabel(work.window)}`;
}
