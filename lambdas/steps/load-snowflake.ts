// LoadSnowflake: replace the target with the staged files (historical) or MERGE them on the primary key
// (incremental). A file that did not load completely fails the table; a retry cannot fix bad data. A
// chunked historical load runs here in three states: PrepareCopy (an empty copy of the target, once),
// LoadChunk (one chunk into the copy, inside the chunks' load Map) and LoadSnowflake (the swap).
import type { StepDeps } from '../deps';
import { InvalidInputError, LoadIncompleteError } from '../domain/errors';
import { loadChunk, swapChunks } from './chunks';
import { resolvedTable } from './columns';
import type { LoadOutput, TableEvent } from './contract';

/** The states this function runs, as the registry names them. */
export const LOAD_STATES = { load: 'LoadSnowflake', prepare: 'PrepareCopy', chunk: 'LoadChunk' } as const;

export async function loadSnowflake(
  { state, stateName }: TableEvent,
  deps: StepDeps,
): Promise<LoadOutput | { index: number } | null> {
  const { work } = state;
  const chunked = work.pipeline === 'historical' && state.export?.chunks !== undefined;
  if (stateName === LOAD_STATES.prepare || stateName === LOAD_STATES.chunk) {
    if (!chunked) throw new InvalidInputError(`${work.table}: ${stateName} runs only in a chunked load`);
    const table = await resolvedTable(deps, work);
    if (stateName === LOAD_STATES.chunk) return loadChunk(deps, state, table, stateName);
    await deps.ports.warehouse.prepareCopy(table);
    return null;
  }
  // A chunked historical load: every chunk is in the copy of the target; the copy is swapped in.
  if (chunked) return swapChunks(deps, state, await resolvedTable(deps, work));
  const keys = state.export?.keys;
  if (keys === undefined) throw new InvalidInputError(`${work.table}: nothing was exported to load`);
  // An empty incremental window has nothing to merge: its part file holds only the CSV header. An empty
  // historical export still replaces the target, which a table emptied at the source must empty too.
  if (work.pipeline === 'incremental' && state.export?.rows === 0) {
    return { rowsParsed: 0, rowsLoaded: 0, inserted: 0, updated: 0, files: 0 };
  }
  const { warehouse } = deps.ports;
  const table = await resolvedTable(deps, work);
  const result =
    work.pipeline === 'historical'
      ? await warehouse.replaceWith(table, keys)
      : await warehouse.merge(table, keys);
  const bad = result.files.filter((f) => f.status === 'LOAD_FAILED' || f.status === 'PARTIALLY_LOADED');
  if (bad.length > 0) {
    const first = bad[0];
    throw new LoadIncompleteError(
      `${work.table}: ${bad.length} file(s) did not load completely; first: ${first?.file} (${first?.status}: ${first?.firstError ?? 'no error given'})`,
    );
  }
  return {
    rowsParsed: result.rowsParsed,
    rowsLoaded: result.rowsLoaded,
    inserted: result.inserted ?? null,
    updated: result.updated ?? null,
    files: result.files.length,
  };
}
