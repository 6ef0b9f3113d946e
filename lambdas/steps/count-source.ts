// CountSource: an early, informational count of the table (historical) or of its window (incremental),
// taken before the export. It is not the ledger's source figure: an incremental window is open above until
// the export fixes its bound, so here it counts [from, now); the export counts the window again, in the
// same snapshot it copies from, and that count is what verify-counts and the audit row use.
import { sliceOf } from './common';
import { STATE } from './contract';
import { tableStep } from './table-step';

export const countSource = tableStep(STATE.countSource, async ({ state }, deps) => {
  const sourceCount = await deps.ports.source.count(state.work.resolved, sliceOf(state.work));
  return { sourceCount };
});
