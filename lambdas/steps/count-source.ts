// CountSource: an early, informational count of the table (historical) or of its window (incremental),
// taken before the export. It is not the ledger's source figure: an incremental window is open above until
// the export fixes its bound, so here it counts [from, now); the export counts the window again, in the
// same snapshot it copies from, and that count is what VerifyCounts and the audit row use. WriteAudit
// reports this count only when the export never ran.
import type { StepDeps } from '../deps';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { TableEvent } from './contract';

export async function countSource({ state }: TableEvent, deps: StepDeps): Promise<{ sourceCount: number }> {
  const table = await resolvedTable(deps, state.work);
  return { sourceCount: await deps.ports.source.count(table, sliceOf(state)) };
}
