// Pieces every step shares: event validation, the slice a table's work covers, and the fields every
// audit event of a table carries.
import type { z } from 'zod';
import { describeIssues } from '../config';
import { type AuditEventInput, blankEvent, type EventType } from '../domain/audit';
import { InvalidInputError } from '../domain/errors';
import type { ResolvedTable } from '../domain/table';
import type { Slice } from '../ports';
import type { TableState, TableWork } from './contract';
import type { StepDeps } from './deps';

export const SOURCE_SYSTEM = 'postgresql';
export const TARGET_SYSTEM = 'snowflake';

/** Validates a step's event; a malformed one is terminal and names the field. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(event);
  if (!result.success) throw new InvalidInputError(`invalid ${what}: ${describeIssues(result.error, what)}`);
  return result.data;
}

/** Historical work covers the whole table; incremental work covers its window on the cursor column. */
export function sliceOf(work: TableWork, upper: string | null = null): Slice {
  if (work.pipeline === 'historical') return { kind: 'all' };
  return { kind: 'window', window: { from: work.window.from, to: upper ?? work.window.to } };
}

/** The window actually transferred: the export may have fixed the upper bound in its snapshot. */
export function effectiveWindow(state: Pick<TableState, 'work' | 'export'>): {
  from: string | null;
  to: string | null;
} {
  return { from: state.work.window.from, to: state.export?.upper ?? state.work.window.to };
}

export function targetTableName(deps: StepDeps, table: ResolvedTable): string {
  const { database, schema } = deps.config.snowflake;
  return `${database}.${schema}.${table.targetName}`;
}

/** The fields every audit event of one table's job shares, with nothing measured yet. */
export function tableEventBase(
  deps: StepDeps,
  executionId: string,
  work: TableWork,
  eventType: EventType,
): AuditEventInput {
  return blankEvent({
    jobId: work.jobId,
    executionId,
    pipelineName: work.pipeline,
    eventType,
    status: 'RUNNING',
    sourceSystem: SOURCE_SYSTEM,
    targetSystem: TARGET_SYSTEM,
    sourceTable: work.table,
    targetTable: targetTableName(deps, work.resolved),
    windowStart: work.window.from,
    windowEnd: work.window.to,
    jobStartTime: work.startedAt,
  });
}

/** How long a best-effort call to the warehouse may take before the step goes on without its answer. */
export const BEST_EFFORT_MS = 10_000;

/** Rejects when `work` has not settled within `ms`; the work itself goes on, unobserved. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
