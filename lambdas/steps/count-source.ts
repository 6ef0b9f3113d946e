// CountSource: an early, informational count of the table (historical) or of its window (incremental),
// taken before the export. It is not the ledger's source figure: an incremental window is open above until
// the export fixes its bound, so here it counts [from, now); the export counts the window again, in the
// same snapshot it copies from, and that count is what VerifyCounts and the audit row use. WriteAudit
// reports this count only when the export never ran.
// A historical load of a table larger than `pipeline.chunkRows` is split here instead (`chunks.ts`):
// nothing counts the whole table then, each chunk counts its range in its own export's snapshot.
import type { StepDeps } from '../deps';
import { planChunks } from './chunks';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { CountOutput, TableEvent } from './contract';

export async function countSource({ state }: TableEvent, deps: StepDeps): Promise<CountOutput> {
  const table = await resolvedTable(deps, state.work);
  if (state.work.pipeline === 'historical') {
    const chunks = await planChunks(deps, state.work, table);
    if (chunks !== null) return { sourceCount: null, chunks };
  }
  return { sourceCount: await deps.ports.source.count(table, sliceOf(state)) };
}
