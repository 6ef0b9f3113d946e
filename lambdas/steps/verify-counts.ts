// VerifyCounts: the count ledger of one table's job must close, from the source snapshot through the
// files and the load to the target; otherwise the job fails naming the stage where the count diverged.
import { CountMismatchError, LoadIncompleteError } from '../domain/errors';
import { CountLedger } from '../domain/ledger';
import { sliceOf } from './common';
import { STATE } from './contract';
import { tableStep } from './table-step';

export const verifyCounts = tableStep(STATE.verifyCounts, async ({ state }, deps) => {
  const { work, export: exported, load } = state;
  if (!exported || !load) throw new LoadIncompleteError(`${work.table}: verify ran before export and load`);
  const targetCount = await deps.ports.warehouse.count(work.resolved, sliceOf(work, exported.upper));
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
  return { targetCount, countMatch: true as const };
});
