// ExportToS3: streams the table or window as compressed CSV (gzip or zstd) into the stage and reports the upper bound it read
// up to. Keys are fixed by job, table and window, so a retry overwrites its own files instead of adding new ones.
import { effectiveCompression } from '../adapters/compression';
import type { StepDeps } from '../deps';
import { windowLabel } from '../domain/window';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { ExportOutput, TableEvent, TableWork } from './contract';

export async function exportToS3({ state }: TableEvent, deps: StepDeps): Promise<ExportOutput> {
  const { work } = state;
  const { maxFileBytes, compression, lagSeconds } = deps.config.pipeline;
  // The source fixes the window's upper bound in the export's own snapshot; a historical export records
  // the same bound, so the first incremental run starts from what this snapshot could see.
  const result = await deps.ports.source.export(
    await resolvedTable(deps, work),
    sliceOf(state),
    deps.ports.stage,
    {
      keyPrefix: exportPrefix(deps, work),
      maxFileBytes,
      compression: effectiveCompression(compression),
      lagMs: lagSeconds * 1000,
      boundCursor: work.pipeline === 'historical',
    },
  );
  return {
    sourceCount: result.sourceCount,
    rows: result.rows,
    rawBytes: result.rawBytes,
    compressedBytes: result.compressedBytes,
    keys: result.files.map((f) => f.key),
    upper: result.upper ?? null,
  };
}

export function exportPrefix(deps: StepDeps, work: TableWork): string {
  return `${deps.config.s3.prefix}/staging/${work.pipeline}/${work.table}/${work.jobId}/${windowLabel(work.window)}`;
}
