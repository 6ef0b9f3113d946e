// Pieces the steps share: event validation, the slice and window a table's work covers, and the fields
// every audit event of a table carries.
import type { z } from 'zod';
import { describeIssues } from '../config';
import type { StepDeps } from '../deps';
import type { AuditEventInput, EventType } from '../domain/audit';
import { InvalidInputError } from '../domain/errors';
import { jobEvent } from '../domain/job-events';
import type { ResolvedTable } from '../domain/table';
import type { Window } from '../domain/window';
import type { Slice } from '../ports';
import type { TableState, TableWork } from './contract';

/** Validates a step's event; a malformed one is terminal and names the field. */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(event);
  if (!result.success) throw new InvalidInputError(`invalid ${what}: ${describeIssues(result.error, what)}`);
  return result.data;
}

/**
 * The window a table's work covers: as Plan planned it until the export ran, then with the upper bound
 * the export fixed in its own snapshot.
 */
export function windowOf(state: Pick<TableState, 'work' | 'export'>): Window {
  return { from: state.work.window.from, to: state.export?.upper ?? state.work.window.to };
}

/** Historical work covers the whole table; incremental work covers its window on the cursor column. */
export function sliceOf(state: Pick<TableState, 'work' | 'export'>): Slice {
  if (state.work.pipeline === 'historical') return { kind: 'all' };
  return { kind: 'window', window: windowOf(state) };
}

export function targetTableName(deps: StepDeps, table: Pick<ResolvedTable, 'targetName'>): string {
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
  return jobEvent(
    { jobId: work.jobId, executionId, pipeline: work.pipeline, startedAt: work.startedAt },
    eventType,
    {
      sourceTable: work.table,
      targetTable: targetTableName(deps, work.resolved),
      window: work.window,
    },
  );
}
