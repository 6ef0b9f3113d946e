// Plan: validates the execution input, resolves each table against the source catalog, works out its
// window, makes sure the warehouse objects exist and records a `start` event per table.
import { effectiveCompression } from '../adapters/compression';
import { appendAudit, auditRetry } from '../audit/writer';
import type { TableConfig } from '../config';
import type { StepDeps } from '../deps';
import type { AuditEventInput } from '../domain/audit';
import { errorName, InvalidInputError, TallyError } from '../domain/errors';
import { lastVerifiedWindows, startsOf } from '../domain/history';
import { newJobId } from '../domain/ids';
import { type JobRef, jobEvent } from '../domain/job-events';
import { qualifiedName, type ResolvedTable } from '../domain/table';
import { nextWindow, WHOLE_TABLE } from '../domain/window';
import { emitLineage } from '../lineage/emit';
import { keepColumns } from './columns';
import { parseEvent, tableEventBase } from './common';
import {
  type ExecutionInput,
  executionInputSchema,
  type PlanEvent,
  type PlanOutput,
  type TableRef,
  type TableWork,
} from './contract';

export async function plan(event: PlanEvent, deps: StepDeps): Promise<PlanOutput> {
  const { executionId, stateName, attempt, state, maxAttempts } = event;
  const input = parseEvent(executionInputSchema, state, 'input');
  // A retry continues the job an earlier attempt may have started, so no table gets a second start.
  const started =
    attempt > 0
      ? startsOf(await deps.ports.audit.read({ executionId, eventTypes: ['start'] }), executionId)
      : [];
  const job: JobRef = {
    executionId,
    jobId: started[0]?.jobId ?? newJobId(deps.now().getTime()),
    startedAt: started[0]?.jobStartTime ?? deps.now().toISOString(),
    pipeline: input.pipeline,
  };
  if (attempt > 0) await auditRetry(deps, jobEvent(job, 'start'), stateName, attempt);
  const specs = selectTables(deps, input);
  let current: TableConfig | undefined;
  try {
    const resolved: ResolvedTable[] = [];
    for (const spec of specs) {
      current = spec;
      resolved.push(await deps.ports.source.resolve(spec));
    }
    current = undefined;
    await deps.ports.warehouse.bootstrap(
      resolved,
      effectiveCompression(deps.config.pipeline.compression).codec,
    );
    // A soft-deleting table's target needs the column its marks go in, before any step counts it.
    for (const table of resolved) {
      if (table.deletes === 'soft') await deps.ports.warehouse.addDeletedMark(table);
    }
    const drift = new Map<string, readonly string[]>();
    for (const table of resolved)
      drift.set(qualifiedName(table), await deps.ports.warehouse.targetDrift(table));
    const names = resolved.map(qualifiedName);
    // Each table's newest success only: what Plan reads does not grow with the log.
    const watermarks =
      input.pipeline === 'incremental' && names.length > 0
        ? lastVerifiedWindows(
            await deps.ports.audit.read({
              sourceTables: names,
              eventTypes: ['success'],
              newest: 1,
              perTable: true,
            }),
            names,
          )
        : new Map<string, string | null>();
    const refuseFirst =
      input.pipeline === 'incremental' && deps.config.pipeline.firstIncremental === 'refuse';
    // The columns go to the stage, one object per table, and the state carries where (`columns.ts`).
    const refs: TableRef[] = [];
    for (const table of resolved) refs.push(await keepColumns(deps, job.jobId, table));
    const tables: TableWork[] = resolved.map((table, i) => ({
      jobId: job.jobId,
      pipeline: input.pipeline,
      table: qualifiedName(table),
      resolved: refs[i] as TableRef,
      window:
        input.pipeline === 'historical'
          ? WHOLE_TABLE
          : nextWindow(
              watermarks.get(qualifiedName(table)) ?? null,
              table.cursorKind,
              deps.config.pipeline.lookbackSeconds,
            ),
      startedAt: job.startedAt,
      ...((drift.get(qualifiedName(table))?.length ?? 0) > 0
        ? { drift: [...(drift.get(qualifiedName(table)) ?? [])] }
        : {}),
      ...(refuseFirst && (watermarks.get(qualifiedName(table)) ?? null) === null
        ? { noWatermark: true as const }
        : {}),
    }));
    const hasStart = new Set(started.map((e) => e.sourceTable));
    const starts = await appendAudit(
      deps,
      tables
        .filter((work) => !hasStart.has(work.table))
        .map((work) => tableEventBase(deps, executionId, work, 'start')),
    );
    // After the audit write, never before it; an earlier attempt's starts again, in case it could not
    // send them (the run ids are the same, so a consumer sees the same runs).
    await emitLineage(deps, [...started, ...starts]);
    return { executionId, pipeline: input.pipeline, tables };
  } catch (err) {
    // A terminal failure, or a transient one on the last attempt, ends the execution before any
    // table's Catch exists: record it here.
    const lastAttempt = maxAttempts !== undefined && attempt >= maxAttempts;
    if (!(err instanceof TallyError && err.transient) || lastAttempt) {
      const table = current ? { sourceTable: qualifiedName(current) } : undefined;
      await recordPlanFailure(deps, jobEvent(job, 'start', table), err);
    }
    throw err;
  }
}

/** The configured tables the input names (all when it names none); an unknown name is an input error. */
function selectTables(deps: StepDeps, input: ExecutionInput): TableConfig[] {
  const configured = deps.config.tables;
  if (input.tables === undefined) return configured;
  return input.tables.map((name, i) => {
    const found = configured.find((t) => qualifiedName(t) === name || t.name === name);
    if (!found) {
      const known = configured.map(qualifiedName).join(', ');
      throw new InvalidInputError(
        `invalid input: input.tables.${i}: '${name}' is not a configured table (${known})`,
      );
    }
    return found;
  });
}

/** Best effort: when the warehouse itself is what failed, the original error must still surface. */
async function recordPlanFailure(deps: StepDeps, base: AuditEventInput, err: unknown): Promise<void> {
  const end = deps.now();
  // On a first run the failure may come before the audit table exists.
  await deps.ports.warehouse
    .bootstrap([], effectiveCompression(deps.config.pipeline.compression).codec)
    .then(() =>
      appendAudit(deps, [
        {
          ...base,
          eventType: 'failure',
          status: 'FAILED',
          jobEndTime: end.toISOString(),
          durationMs: end.getTime() - Date.parse(base.jobStartTime),
          errorType: errorName(err),
          errorMessage: err instanceof Error ? err.message : String(err),
        },
      ]),
    )
    .catch(() => undefined);
}
