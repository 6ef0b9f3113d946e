// WriteAudit: closes a table's job with a `success` or `failure` event carrying everything measured on
// the way, or, after an alert was published, records one `alert` event per failed table.
import { appendAudit, keptEvents } from '../audit/writer';
import { bestEffort } from '../best-effort';
import type { StepDeps } from '../deps';
import { clip } from '../domain/alert';
import type { AuditEvent, AuditEventInput } from '../domain/audit';
import { INCOMPLETE_CHECK } from '../domain/deletes';
import { retryEvent } from '../domain/job-events';
import { type StepDurations, type TimedStep, withStepDurations } from '../domain/step-durations';
import { releaseTable } from '../leases/table-lease';
import { emitLineage } from '../lineage/emit';
import { describeDeletes } from './check-deletes';
import { describeRange, readChunkFailure } from './chunks';
import { resolvedTable } from './columns';
import { sliceOf, tableEventBase, windowOf } from './common';
import {
  type RunState,
  TABLE_CHAIN,
  type TableOutcome,
  type TableState,
  type WriteAuditEvent,
} from './contract';
import { describeValueCheck } from './verify-values';

/**
 * Of an error message, what a table's outcome keeps (the audit event keeps it whole): the run's state
 * holds every table's outcome, and 100 failed tables must stay far below Step Functions' 256 KB.
 */
const OUTCOME_MESSAGE_CHARS = 500;

export async function writeAudit(
  event: WriteAuditEvent,
  deps: StepDeps,
): Promise<TableOutcome | { alerted: number }> {
  if (event.mode === 'alert') return writeAlerts(event, deps);
  const started = performance.now();
  const { state, executionId, stateName, attempt } = event;
  const kept = await keptEvents(deps, state.work.jobId, state.work.table);
  const events: AuditEventInput[] = [];
  if (attempt > 0) {
    events.push(retryEvent(tableEventBase(deps, executionId, state.work, 'retry'), stateName, attempt));
  }
  // An earlier attempt may have kept the result and failed only to deliver it: deliver that one, never a
  // second result for the same job.
  const eventType = event.mode === 'failure' && skippedBusy(state) ? 'skipped' : event.mode;
  const already = kept.some((e) => e.eventType === eventType && e.executionId === executionId);
  // The job's retries, from the S3 copies of its events (the warehouse may be down), and this one.
  const retries = kept.filter((e) => e.eventType === 'retry').length + (attempt > 0 ? 1 : 0);
  // A delete check that ran is recorded with the table's success, once, as its own `deletes` event.
  const checked =
    event.mode === 'success' &&
    state.deletes?.ran === true &&
    !kept.some((e) => e.eventType === 'deletes' && e.executionId === executionId);
  if (checked) events.push(deletesEvent(event, deps));
  // A chunk that failed its Map recorded itself: the event and the alert name it, with its own error.
  const failure = event.mode === 'failure' ? await failureOf(deps, state) : null;
  if (!already) events.push(await tableResult(event, deps, retries, failure, started));
  let written: AuditEvent[];
  try {
    written = await appendAudit(deps, events);
  } finally {
    // Once the result is kept the table is done with, even when the warehouse could not take it yet.
    await releaseTable(deps, executionId, state.work.table);
  }
  // The run's end goes to lineage after the audit write; a retry sends the result an earlier attempt kept.
  const result = already
    ? kept.filter((e) => e.eventType === eventType && e.executionId === executionId)
    : written.filter((e) => e.eventType === eventType);
  await emitLineage(deps, result);
  const status = outcomeOf(event);
  if (status !== 'failed') return { table: state.work.table, status };
  const { error, stage } = failure ?? {
    error: describeError(state.error ?? { Error: 'UnknownError' }),
    stage: failedStage(state),
  };
  return {
    table: state.work.table,
    status,
    // Clipped: the outcome stays in the run's state, which must hold every table's.
    failure: {
      stage,
      error: error.type,
      message: clip(error.message, OUTCOME_MESSAGE_CHARS),
    },
  };
}

interface Failure {
  readonly stage: string;
  readonly error: { readonly type: string; readonly message: string };
}

/**
 * Where and why the table failed: for a chunked load whose chunks' Map failed, the chunk its Catch
 * recorded (in AWS the Map's own error is only States.ExceedToleratedFailureThreshold), its range, state
 * and error; else the Catch's error at the first stage whose result the state lacks.
 */
async function failureOf(deps: StepDeps, state: TableState): Promise<Failure> {
  const chunk = await bestEffort(readChunkFailure(deps, state), null);
  if (chunk !== null) {
    const own = describeError({ Error: chunk.error, Cause: chunk.cause });
    return {
      stage: chunk.state === 'LoadChunk' ? 'LoadChunks' : 'ExportChunks',
      error: {
        type: own.type,
        message: `chunk ${chunk.index} ${describeRange(chunk)} failed in ${chunk.state} after its retries: ${own.message}`,
      },
    };
  }
  return { stage: failedStage(state), error: describeError(state.error ?? { Error: 'UnknownError' }) };
}

/** The state of the table's chain that failed: the first whose result the state does not hold. */
export function failedStage(state: TableState): string {
  // A chunked load that has no export yet failed in its chunks' Map.
  if (state.count?.chunks !== undefined && state.export === undefined) return 'ExportChunks';
  // AuditSuccess has no result key: a table that got that far failed there.
  const missing = TABLE_CHAIN.find((link) => link.result === null || state[link.result] === undefined);
  return missing?.state ?? 'AuditSuccess';
}

/**
 * A table another execution was loading is skipped, not failed: that execution loads it, and the next
 * run takes up from its watermark. Nothing is alerted for it.
 */
function skippedBusy(state: TableState): boolean {
  return state.error?.Error === 'TableBusyError';
}

function outcomeOf(event: Extract<WriteAuditEvent, { mode: 'success' | 'failure' }>): TableOutcome['status'] {
  if (event.mode === 'success') return 'succeeded';
  return skippedBusy(event.state) ? 'skipped' : 'failed';
}

async function tableResult(
  event: Extract<WriteAuditEvent, { mode: 'success' | 'failure' }>,
  deps: StepDeps,
  retryCount: number,
  failure: Failure | null,
  started: number,
): Promise<AuditEventInput> {
  const { state, executionId, mode } = event;
  const { work } = state;
  const end = deps.now();
  const window = windowOf(state);
  const error = failure?.error ?? (state.error ? describeError(state.error) : null);
  const skipped = mode === 'failure' && skippedBusy(state);
  return {
    ...tableEventBase(deps, executionId, work, skipped ? 'skipped' : mode),
    status: mode === 'success' ? 'SUCCEEDED' : skipped ? 'SKIPPED' : 'FAILED',
    windowStart: window.from,
    windowEnd: window.to,
    recordCountBefore: state.export?.sourceCount ?? state.count?.sourceCount ?? null,
    rowsExported: state.export?.rows ?? null,
    files: state.export?.chunks?.files ?? state.export?.keys.length ?? null,
    bytes: state.export?.compressedBytes ?? null,
    rowsParsed: state.load?.rowsParsed ?? null,
    rowsLoaded: state.load?.rowsLoaded ?? null,
    recordCountAfter: state.verify?.targetCount ?? (await targetCountAfterFailure(deps, state)),
    // A table that failed after VerifyCounts passed (at VerifyValues) still had its counts close.
    countMatch:
      mode === 'success' || state.verify !== undefined
        ? true
        : error?.type === 'CountMismatchError'
          ? false
          : null,
    jobEndTime: end.toISOString(),
    durationMs: end.getTime() - Date.parse(work.startedAt),
    // A success can still carry a warning: the volume guard's, for a window far below its usual size. Its
    // message also carries the value check's figures (segments, checksums compared, mismatches).
    errorType: error?.type ?? (state.verify?.volumeWarning ? 'VolumeWarning' : null),
    // The steps' durations ride at its end, in the form `domain/step-durations.ts` reads back; WriteAudit's
    // own is its time up to this event, which is sealed and written after.
    errorMessage: withStepDurations(error?.message ?? successMessage(state), {
      ...stepDurations(state),
      WriteAudit: performance.now() - started,
    }),
    retryCount,
  };
}

/**
 * One run of the delete check: RECORD_COUNT_BEFORE the source's keys below the bound, RECORD_COUNT_AFTER
 * the target's (unmarked) keys below it before the check changed any, ROWS_PARSED the keys found gone
 * from the source, ROWS_LOADED the target rows the mode changed (deleted or marked; 0 for report); the
 * window ends at the bound the keys were judged below; the message lists the first keys.
 */
function deletesEvent(
  event: Extract<WriteAuditEvent, { mode: 'success' | 'failure' }>,
  deps: StepDeps,
): AuditEventInput {
  const { state, executionId } = event;
  const deletes = state.deletes;
  if (deletes?.ran !== true) throw new Error('a deletes event needs a check that ran');
  const end = deps.now();
  return {
    ...tableEventBase(deps, executionId, state.work, 'deletes'),
    status: 'SUCCEEDED',
    windowStart: null,
    windowEnd: deletes.bound,
    recordCountBefore: deletes.sourceRows,
    recordCountAfter: deletes.targetRows,
    rowsParsed: deletes.found,
    rowsLoaded: deletes.handled,
    jobEndTime: end.toISOString(),
    durationMs: end.getTime() - Date.parse(state.work.startedAt),
    errorType: deletes.incomplete ? INCOMPLETE_CHECK : null,
    errorMessage: describeDeletes(deletes) ?? null,
  };
}

/** How long each step of the table's chain took, as their results say. */
function stepDurations(state: TableState): StepDurations {
  const durations: StepDurations = {};
  const results: readonly [TimedStep, { readonly stepMs?: number | undefined } | undefined][] = [
    ['CountSource', state.count],
    ['ExportToS3', state.export],
    ['LoadSnowflake', state.load],
    ['VerifyCounts', state.verify],
    ['VerifyValues', state.values],
    ['CheckDeletes', state.deletes],
  ];
  for (const [step, result] of results) if (result?.stepMs !== undefined) durations[step] = result.stepMs;
  return durations;
}

/**
 * What a success event's message says: the volume guard's warning, the value check and the delete check,
 * whichever there are.
 */
function successMessage(state: TableState): string | null {
  const parts = [
    state.verify?.volumeWarning,
    state.values ? describeValueCheck(state.values) : undefined,
    state.deletes ? describeDeletes(state.deletes) : undefined,
  ];
  const text = parts.filter((p): p is string => p !== undefined).join('; ');
  return text === '' ? null : text;
}

/**
 * When a loaded table failed (say, its counts did not close), what the target holds for the window is
 * the number an operator needs next; best effort, since the warehouse may be what failed.
 */
async function targetCountAfterFailure(deps: StepDeps, state: TableState): Promise<number | null> {
  if (!state.load) return null;
  return bestEffort(
    resolvedTable(deps, state.work).then((table) => deps.ports.warehouse.count(table, sliceOf(state))),
    null,
  );
}

/**
 * A Catch hands over `{ Error, Cause }`. A Lambda's Cause is the JSON of its error (errorType,
 * errorMessage, trace); the local interpreter's is the bare message. Either way keep only the message.
 */
export function describeError(error: { Error: string; Cause?: string | undefined }): {
  type: string;
  message: string;
} {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return { type: error.Error, message: parsed.errorMessage };
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return { type: error.Error, message: cause };
}

async function writeAlerts(
  event: { executionId: string; stateName: string; attempt: number; state: RunState },
  deps: StepDeps,
): Promise<{ alerted: number }> {
  const { executionId, stateName, attempt, state } = event;
  const failed = new Set(state.outcomes.filter((o) => o.status === 'failed').map((o) => o.table));
  const works = state.tables.filter((w) => failed.has(w.table));
  const first = works[0];
  const events: AuditEventInput[] = [];
  if (attempt > 0 && first) {
    events.push(retryEvent(tableEventBase(deps, executionId, first, 'retry'), stateName, attempt));
  }
  const end = deps.now();
  for (const work of works) {
    // A retry delivers the alert events an earlier attempt kept, rather than writing them twice.
    const kept = attempt > 0 ? await keptEvents(deps, work.jobId, work.table) : [];
    if (kept.some((e) => e.eventType === 'alert' && e.executionId === executionId)) continue;
    events.push({
      ...tableEventBase(deps, executionId, work, 'alert'),
      status: 'ALERTED',
      jobEndTime: end.toISOString(),
      durationMs: end.getTime() - Date.parse(work.startedAt),
      errorType: 'TableFailed',
      errorMessage: `${work.table} failed in execution ${executionId}; an alert was published`,
      alertTriggered: true,
    });
  }
  await appendAudit(deps, events);
  return { alerted: works.length };
}
