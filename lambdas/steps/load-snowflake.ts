// LoadSnowflake: replace the target with the staged files (historical) or MERGE them on the primary key
// (incremental). A file that did not load completely fails the table; a retry cannot fix bad data.
import type { StepDeps } from '../deps';
import { InvalidInputError, LoadIncompleteError } from '../domain/errors';
import { loadChunks } from './chunks';
import { resolvedTable } from './columns';
import type { LoadOutput, TableEvent } from './contract';

export async function loadSnowflake({ state }: TableEvent, deps: StepDeps): Promise<LoadOutput> {
  const { work } = state;
  // A chunked historical load: every chunk into a copy of the target, then the copy swapped in.
  if (work.pipeline === 'historical' && state.export?.chunks !== undefined) {
    return loadChunks(deps, state, await resolvedTable(deps, work));
  }
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
