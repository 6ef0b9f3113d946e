// A table's resolved columns travel beside the state, not in it. Plan writes them to the stage, one object
// per table of the job, and the state carries the object's key and the SHA-256 of its content; a step that
// needs the columns reads them back, once per object in a warm function. The state then grows with the
// number of tables, not with their width: 100 tables of 200 columns would otherwise carry about 2 MB, where
// Step Functions allows 256 KB.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { StepDeps } from '../deps';
import { PlanRecordError } from '../domain/errors';
import { qualifiedName, type ResolvedTable } from '../domain/table';
import { columnInfoSchema, type TableRef, type TableWork } from './contract';
import { STEP_PREFIX_PATHS } from './registry';

const columnsFileSchema = z.object({ table: z.string(), columns: z.array(columnInfoSchema).min(1) }).strict();
type ColumnsFile = z.infer<typeof columnsFileSchema>;

/** Read objects a warm function keeps; far more than one job's tables, and a bound on its memory. */
const CACHE_ENTRIES = 512;
const cache = new Map<string, ResolvedTable>();

/** The key of one table's columns for one job: `<prefix>/staging/plans/<jobId>/<schema.name>.json`. */
export function columnsKey(deps: Pick<StepDeps, 'config'>, jobId: string, table: string): string {
  return `${deps.config.s3.prefix}/${STEP_PREFIX_PATHS.plans}/${jobId}/${encodeURIComponent(table)}.json`;
}

/** Writes `table`'s columns to the stage and returns the table as the state carries it. */
export async function keepColumns(deps: StepDeps, jobId: string, table: ResolvedTable): Promise<TableRef> {
  const { columns, ...rest } = table;
  const name = qualifiedName(table);
  // In the schema's order of keys, which is also the order a read gives back: the digests then agree.
  const file = columnsFileSchema.parse({ table: name, columns });
  const key = columnsKey(deps, jobId, name);
  await deps.ports.stage.putJson(key, file);
  return { ...rest, columns: { key, sha256: digest(file), count: columns.length } };
}

/**
 * The whole resolved table of `work`, its columns read from the stage. Refused with PlanRecordError when
 * the object is gone or is not, byte for byte, what Plan wrote: the export and the load must use the
 * columns the target was checked against.
 */
export async function resolvedTable(
  deps: StepDeps,
  work: Pick<TableWork, 'table' | 'resolved'>,
): Promise<ResolvedTable> {
  const { columns: ref, ...rest } = work.resolved;
  const id = `${ref.key}#${ref.sha256}`;
  const cached = cache.get(id);
  if (cached) return cached;
  const found = await deps.ports.stage.getJson<unknown>(ref.key);
  if (found === null) {
    throw new PlanRecordError(
      `${work.table}: the columns Plan resolved for this job are gone from the stage (${ref.key}); start the pipeline again`,
    );
  }
  const parsed = columnsFileSchema.safeParse(found);
  if (!parsed.success || digest(parsed.data) !== ref.sha256 || parsed.data.table !== work.table) {
    throw new PlanRecordError(
      `${work.table}: the columns kept at ${ref.key} are not the ones Plan resolved for this job (their SHA-256 differs); nothing was read or loaded with them. Start the pipeline again, and find out what wrote to that prefix`,
    );
  }
  const table: ResolvedTable = { ...rest, columns: parsed.data.columns };
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(id, table);
  return table;
}

/** Of the file's JSON text, keys in the schema's order (as `columnsFileSchema` gives them). */
function digest(file: ColumnsFile): string {
  return createHash('sha256').update(JSON.stringify(file)).digest('hex');
}
