// VerifyCounts: the count ledger of one table's job must close, from the source snapshot through the
// files and the load to the target; otherwise the job fails naming the stage where the count diverged.
// Then the volume guard looks at an incremental window's size against the table's recent windows.
import type { StepDeps } from '../deps';
import { CountMismatchError, InvalidInputError, VolumeAnomalyError } from '../domain/errors';
import { recentVolumes } from '../domain/history';
import { CountLedger } from '../domain/ledger';
import { volumeAnomaly } from '../domain/volume';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { TableEvent, TableWork, VerifyOutput } from './contract';

export async function verifyCounts({ state }: TableEvent, deps: StepDeps): Promise<VerifyOutput> {
  const { work, export: exported, load } = state;
  if (!exported || !load) throw new InvalidInputError(`${work.table}: verify ran before export and load`);
  const targetCount = await deps.ports.warehouse.count(await resolvedTable(deps, work), sliceOf(state));
  // The export's own snapshot count is the source count: CountSource ran earlier, on a table that may
  // have changed since.
  const ledger = new CountLedger()
    .record('source', exported.sourceCount)
    .record('exported', exported.rows)
    .record('parsed', load.rowsParsed)
    .record('loaded', load.rowsLoaded)
    .record('target', targetCount);
  const divergence = ledger.firstDivergence();
  if (divergence) {
    throw new CountMismatchError(
      `${work.table}: counts do not close at stage '${divergence.stage}' (expected ${divergence.expected}, got ${divergence.actual}): ${ledger.describe()}`,
    );
  }
  const warning = await checkVolume(deps, work, exported.sourceCount);
  return { targetCount, countMatch: true as const, ...(warning ? { volumeWarning: warning } : {}) };
}

/** In 'alert' mode an anomaly fails the table, so the alert path publishes; in 'warn' mode it is returned. */
async function checkVolume(deps: StepDeps, work: TableWork, rows: number): Promise<string | null> {
  const { mode, history, minRatio } = deps.config.pipeline.volumeGuard;
  if (mode === 'off' || work.pipeline !== 'incremental') return null;
  // The table's newest verified incremental windows only, however long its history.
  const latest = await deps.ports.audit.read({
    sourceTables: [work.table],
    eventTypes: ['success'],
    pipeline: 'incremental',
    newest: history,
  });
  const recent = recentVolumes(latest, work.table, history);
  const anomaly = volumeAnomaly(rows, recent, { minRatio });
  if (anomaly === null) return null;
  const message = `${work.table}: volume guard: ${anomaly}`;
  if (mode === 'alert') throw new VolumeAnomalyError(`${message}; check that the source is still written to`);
  deps.logger.warn(message);
  return message;
}
