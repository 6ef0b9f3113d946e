// CountSource: how many rows the table (historical) or its window (incremental) holds at the source.
import { sliceOf } from './common';
import { STATE } from './contract';
import { tableStep } from './table-step';

export const countSource = tableStep(STATE.countSource, async ({ state }, deps) => {
  const sourceCount = await deps.ports.source.count(state.work.resolved, sliceOf(state.work));
  return { sourceCount };
});
