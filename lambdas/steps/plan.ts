// Plan: validates the execution input, resolves each table against the source catalog, works out its
// window, makes sure the warehouse objects exist and records a `start` event per table.
import type { TableConfig } from '../config';
import { type AuditEvent, type AuditEventInput, blankEvent, type PipelineName } from '../domain/audit';
import { errorName, InvalidInputError, TallyError } from '../domain/errors';
import { newJobId } from '../domain/ids';
import { qualifiedName, type ResolvedTable } from '../domain/table';
import { WHOLE_TABLE, type Window } from '../domain/window';
import { appendAudit, auditRetry } from './audit-writer';
import { parseEvent, SOURCE_SYSTEM, TARGET_SYSTEM, tableEventBase } from './common';
import {
  type ExecutionInput,
  executionInputSchema,
  type PlanOutput,
  planEventSchema,
  STATE,
  type TableWork,
} from './contract';
import type { StepDeps } from './deps';

export async function plan(event: unknown, deps: StepDeps): Promise<PlanOutput> {
  const { executionId, attempt, state, maxAttempts } = parseEvent(planEventSchema, event, 'event');
  const input = parseEvent(executionInputSchema, state, 'input');
  // A retry continues the job an earlier attempt may have started, so no table gets a second start.
  const started = attempt > 0 ? await startedBefore(deps, executionId) : [];
  const jobId = started[0]?.jobId ?? newJobId(deps.now().getTime());
  const startedAt = started[0]?.jobStartTime ?? deps.now().toISOString();
  const job = { executionId, jobId, startedAt, pipeline: input.pipeline };
  if (attempt > 0) await auditRetry(deps, jobEventBase(job, null), STATE.plan, attempt);
  const specs = selectTables(deps, input);
  let current: TableConfig | undefined;
  try {
    const resolved: ResolvedTable[] = [];
    for (const spec of specs) {
      current = spec;
      resolved.push(await deps.ports.source.resolve(spec));
    }
    current = undefined;
    await deps.ports.warehouse.bootstrap(resolved);
    const watermarks = input.pipeline === 'incremental' ? await readWatermarks(deps, resolved) : new Map();
    const tables: TableWork[] = resolved.map((table) => ({
      jobId,
      pipeline: input.pipeline,
      table: qualifiedName(table),
      resolved: { ...table, primaryKey: [...table.primaryKey], columns: [...table.columns] },
      window:
        input.pipeline === 'historical'
          ? WHOLE_TABLE
          : windowFor(deps, table, watermarks.get(qualifiedName(table)) ?? null),
      startedAt,
    }));
    const hasStart = new Set(started.map((e) => e.sourceTable));
    await appendAudit(
      deps,
      tables
        .filter((work) => !hasStart.has(work.table))
        .map((work) => tableEventBase(deps, executionId, work, 'start')),
    );
    return { executionId, pipeline: input.pipeline, tables };
  } catch (err) {
    // A terminal failure, or a transient one on the last attempt, ends the execution before any
    // table's Catch exists: record it here.
    const lastAttempt = maxAttempts !== undefined && attempt >= maxAttempts;
    if (!(err instanceof TallyError && err.transient) || lastAttempt) {
      await recordPlanFailure(deps, jobEventBase(job, current ? qualifiedName(current) : null), err);
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

/** The `start` events an earlier attempt of this execution's Plan already wrote. */
async function startedBefore(deps: StepDeps, executionId: string): Promise<AuditEvent[]> {
  const events = await deps.ports.warehouse.readAudit();
  return events.filter((e) => e.executionId === executionId && e.eventType === 'start');
}

/** The last verified upper bound of each table: WINDOW_END of its latest `success` event. */
async function readWatermarks(
  deps: StepDeps,
  tables: readonly ResolvedTable[],
): Promise<Map<string, string | null>> {
  const names = new Set(tables.map(qualifiedName));
  const latest = new Map<string, AuditEvent>();
  for (const e of await deps.ports.warehouse.readAudit()) {
    if (e.eventType !== 'success' || e.sourceTable === null || !names.has(e.sourceTable)) continue;
    const seen = latest.get(e.sourceTable);
    if (!seen || `${e.createdAt}${e.eventId}` > `${seen.createdAt}${seen.eventId}`)
      latest.set(e.sourceTable, e);
  }
  return new Map([...latest].map(([table, e]) => [table, e.windowEnd]));
}

/**
 * `[watermark − lookback, open)`: the export fixes the upper bound in its own snapshot (behind the lag
 * and every transaction still in flight), and that bound becomes the next watermark once verified. An
 * integer cursor has no clock to look back on: its window starts at the watermark itself.
 */
function windowFor(deps: StepDeps, table: ResolvedTable, watermark: string | null): Window {
  if (watermark === null || table.cursorKind === 'integer') return { from: watermark, to: null };
  // Dropping the watermark's microseconds only moves the start down: more overlap, never a gap.
  const from = new Date(Date.parse(watermark) - deps.config.pipeline.lookbackSeconds * 1000);
  return { from: from.toISOString(), to: null };
}

interface Job {
  readonly executionId: string;
  readonly jobId: string;
  readonly startedAt: string;
  readonly pipeline: PipelineName;
}

/** Best effort: when the warehouse itself is what failed, the original error must still surface. */
async function recordPlanFailure(deps: StepDeps, base: AuditEventInput, err: unknown): Promise<void> {
  const end = deps.now();
  // On a first run the failure may come before the audit table exists.
  await deps.ports.warehouse
    .bootstrap([])
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

/** An event about the job as a whole (or one table before it was resolved). */
function jobEventBase(job: Job, table: string | null): AuditEventInput {
  return blankEvent({
    jobId: job.jobId,
    executionId: job.executionId,
    pipelineName: job.pipeline,
    eventType: 'start',
    status: 'RUNNING',
    sourceSystem: SOURCE_SYSTEM,
    targetSystem: TARGET_SYSTEM,
    sourceTable: table,
    jobStartTime: job.startedAt,
  });
}
