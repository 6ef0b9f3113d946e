// The audit events of a job, before they are sealed into the chain: what every event of a job (or of one
// of its tables) carries, and the event a step writes when it runs again after a failure.
import { type AuditEventInput, blankEvent, type EventType, type PipelineName } from './audit';
import type { Window } from './window';

export const SOURCE_SYSTEM = 'postgresql';
export const TARGET_SYSTEM = 'snowflake';

/** One execution's job, as every event of it names it. */
export interface JobRef {
  readonly jobId: string;
  readonly executionId: string;
  readonly pipeline: PipelineName;
  /** When the job started (ISO 8601), the same on every event of the job. */
  readonly startedAt: string;
}

/** The table an event is about: its source and target names and the window of the transfer. */
export interface TableRef {
  readonly sourceTable: string;
  readonly targetTable: string;
  readonly window: Window;
}

/** An event of the job (or, given `table`, of one of its tables) with nothing measured yet. */
export function jobEvent(
  job: JobRef,
  eventType: EventType,
  table?: TableRef | { readonly sourceTable: string | null },
): AuditEventInput {
  const window = table && 'window' in table ? table.window : null;
  return blankEvent({
    jobId: job.jobId,
    executionId: job.executionId,
    pipelineName: job.pipeline,
    eventType,
    status: 'RUNNING',
    sourceSystem: SOURCE_SYSTEM,
    targetSystem: TARGET_SYSTEM,
    sourceTable: table?.sourceTable ?? null,
    targetTable: table && 'targetTable' in table ? table.targetTable : null,
    windowStart: window?.from ?? null,
    windowEnd: window?.to ?? null,
    jobStartTime: job.startedAt,
  });
}

/** The event a step that runs again after a failure writes first: RETRY_COUNT is its attempt number. */
export function retryEvent(base: AuditEventInput, state: string, attempt: number): AuditEventInput {
  return {
    ...base,
    eventType: 'retry',
    status: 'RETRYING',
    retryCount: attempt,
    retryStatus: 'retrying',
    errorMessage: `${state} is running again (attempt ${attempt + 1})`,
  };
}

const RETRY_MESSAGE = /^(.+) is running again \(attempt \d+\)$/;

/** The state a `retry` event says ran again (what `retryEvent` wrote), or null for any other event. */
export function retriedState(event: {
  readonly eventType: EventType;
  readonly errorMessage: string | null;
}): string | null {
  if (event.eventType !== 'retry' || event.errorMessage === null) return null;
  return RETRY_MESSAGE.exec(event.errorMessage)?.[1] ?? null;
}
