// VerifyValues: after the counts close, the values of the job's rows are compared between the source and
// the target by segment checksums computed in each database (`domain/reconcile.ts`): every row, or a
// sample of key segments for a large job, as the table's `verifyValues` says. A key whose values differ or
// that the target lacks fails the table with ValueMismatchError, which alerts like a count mismatch.
import type { TallyConfig, ValueCheckMode } from '../config';
import type { StepDeps } from '../deps';
import { InvalidInputError, ValueMismatchError } from '../domain/errors';
import { describeDifferences, sampleSegments } from '../domain/reconcile';
import type { Slice } from '../ports';
import { compareValues } from '../reconcile/compare';
import { resolvedTable } from './columns';
import { sliceOf } from './common';
import type { TableEvent, TableState, ValuesOutput } from './contract';

/** The check a job gets: the table's own setting, else full up to the configured size and sampled beyond. */
export function valueCheckMode(config: TallyConfig, table: string, rows: number): ValueCheckMode {
  const spec = config.tables.find((t) => `${t.schema}.${t.name}` === table);
  if (spec?.verifyValues !== undefined) return spec.verifyValues;
  return rows <= config.pipeline.valueCheck.fullUpToRows ? 'full' : 'sampled';
}

/**
 * The rows a job's values are compared over: those below the upper bound its export fixed. A row updated
 * since has its cursor at or past that bound, so it leaves the source's side of the comparison instead of
 * showing as changed; the next window carries it.
 */
export function verifiedSlice(state: Pick<TableState, 'work' | 'export'>): Slice {
  const upper = state.export?.upper ?? null;
  if (upper === null) return sliceOf(state);
  return { kind: 'window', window: { from: state.work.window.from, to: upper } };
}

export async function verifyValues({ state }: TableEvent, deps: StepDeps): Promise<ValuesOutput> {
  const { work, export: exported } = state;
  if (!exported || !state.verify) throw new InvalidInputError(`${work.table}: values verified before counts`);
  const mode = valueCheckMode(deps.config, work.table, exported.sourceCount);
  if (mode === 'off') {
    return { mode, segments: 0, checksumsCompared: 0, mismatches: 0, extraKeys: 0, skipped: [] };
  }
  const table = await resolvedTable(deps, work);
  const sample =
    mode === 'sampled'
      ? sampleSegments(work.jobId, deps.config.pipeline.valueCheck.sampleFraction)
      : undefined;
  const result = await compareValues(deps.ports, table, verifiedSlice(state), {
    ...(sample ? { sample } : {}),
    onProgress: (message) => deps.logger.info(`${work.table}: values: ${message}`),
  });
  // Keys only the target holds in the slice moved on at the source (updated since the export) or were
  // deleted there: neither is a wrong value. Telling them apart would read the whole source table.
  const failing = { ...result, extra: [] };
  const mismatches = result.missing.length + result.differing.length + result.unsplit.length;
  const figures = `${mode} check, ${result.segments} segment checksums, ${result.checksumsCompared} compared`;
  if (mismatches > 0) {
    throw new ValueMismatchError(
      `${work.table}: the target's values differ from the source's (${figures}): ${describeDifferences(table.primaryKey, failing).join('; ')}${result.truncated ? '; more differ than are listed' : ''}`,
    );
  }
  if (result.extra.length > 0) {
    deps.logger.info(
      `${work.table}: ${result.extra.length} key(s) in the target's slice are no longer in the source's: updated since the export, or deleted`,
    );
  }
  return {
    mode,
    segments: result.segments,
    checksumsCompared: result.checksumsCompared,
    mismatches: 0,
    extraKeys: result.extra.length,
    skipped: [...result.skipped],
  };
}

/** The value check's figures as the success event's message carries them. */
export function describeValueCheck(values: ValuesOutput): string {
  if (values.mode === 'off') return 'values not verified (verifyValues: off)';
  const skipped = values.skipped.length > 0 ? `; not compared: ${values.skipped.join(', ')}` : '';
  const extra = values.extraKeys > 0 ? `; ${values.extraKeys} key(s) moved on or deleted at the source` : '';
  return `values verified (${values.mode}): ${values.segments} segment checksums, ${values.checksumsCompared} compared, ${values.mismatches} mismatches${extra}${skipped}`;
}
