// What `tally report` shows, as pure functions of the audit events it read: each table's runs and rows,
// how long the parts of a job the audit log can time took (p50, p95), failures by error name and retries
// by step, each table's freshness against the schedule, the volume guard's warnings and the alerts.

import type { AuditEvent, PipelineName } from '../../lambdas/domain/audit';
import { newestFirst } from '../../lambdas/domain/history';
import { retriedState } from '../../lambdas/domain/job-events';
import { readStepDurations, TIMED_STEPS, type TimedStep } from '../../lambdas/domain/step-durations';
import type { ChainStatus } from './chain-status';

/** How often the incremental pipeline runs, and how many intervals a table may miss before it is stale. */
export interface Schedule {
  readonly intervalMinutes: number;
  readonly intervals: number;
}

export const REPORT_DEFAULTS = {
  /** How far back the report reads by default: its cost is bounded by the period, not the history. */
  sinceDays: 30,
  maxEvents: 100_000,
  /** The stack's schedule (every 30 minutes) and its freshness alarm's intervals (3). */
  schedule: { intervalMinutes: 30, intervals: 3 },
} as const;

export interface ReportInput {
  /** The events of the period, in any order. */
  readonly events: readonly AuditEvent[];
  /** The newest success of each table, however old: freshness does not depend on the period. */
  readonly lastVerified: readonly AuditEvent[];
  /** The tables to show even without an event in the period (the configured ones). */
  readonly tables: readonly string[];
  readonly since: string;
  readonly now: Date;
  readonly schedule: Schedule;
  /** Set when the period held more events than were read: only the newest `maxEvents` are shown. */
  readonly truncated?: { readonly maxEvents: number };
  readonly chain: ChainStatus;
}

export type RunStatus = 'succeeded' | 'failed' | 'skipped' | 'running';

/** One table's part of one execution. */
export interface Run {
  readonly executionId: string;
  readonly jobId: string;
  readonly pipeline: PipelineName;
  readonly status: RunStatus;
  /** When the run's last event was written. */
  readonly at: string;
  readonly windowStart: string | null;
  readonly windowEnd: string | null;
  /** Rows loaded (or merged) for a success; for a failure, what got furthest (exported, counted). */
  readonly rows: number | null;
  readonly durationMs: number | null;
  readonly retries: number;
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  readonly alerted: boolean;
}

/**
 * The parts of a job the audit log times: Plan (from the job's start to the table's start event, which
 * Plan writes), each Lambda step of the table's chain (its invocation, as the table's final event carries
 * it: `domain/step-durations.ts`), the chain as a whole, the whole job and the alert.
 */
export type PhaseName =
  | 'Plan'
  | TimedStep
  | 'CountSource → WriteAudit'
  | 'whole job'
  | 'ComposeAlert → alert';

export const PHASES: readonly { readonly name: PhaseName; readonly from: string; readonly to: string }[] = [
  { name: 'Plan', from: 'the job start', to: "the table's start event" },
  ...TIMED_STEPS.map((step) => ({
    name: step,
    from: `the start of ${step}'s invocation`,
    to: "its end (its last attempt's), as the table's success or failure event records it",
  })),
  { name: 'CountSource → WriteAudit', from: 'the start event', to: 'the success or failure event' },
  { name: 'whole job', from: 'the job start', to: 'the success or failure event' },
  { name: 'ComposeAlert → alert', from: 'the failure event', to: 'the alert event' },
];

export interface PhaseStats {
  readonly phase: PhaseName;
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
}

export interface Freshness {
  readonly state: 'fresh' | 'stale' | 'never verified';
  /** When the newest verified window was verified. */
  readonly verifiedAt: string | null;
  readonly windowEnd: string | null;
  /** Age of the newest verified window: from its end when that is a time, else from when it was verified. */
  readonly ageMs: number | null;
  readonly basis: 'window end' | 'verified at' | null;
  /** The age past which the table is stale: the schedule's interval times the intervals allowed. */
  readonly limitMs: number;
}

export interface TableReport {
  readonly table: string;
  /** Oldest first. */
  readonly runs: readonly Run[];
  readonly freshness: Freshness;
  readonly durations: readonly PhaseStats[];
  readonly failures: number;
  readonly retries: number;
}

export interface Warning {
  readonly table: string | null;
  readonly at: string;
  readonly executionId: string;
  readonly pipeline: PipelineName;
  readonly kind: string;
  readonly message: string;
}

export interface Report {
  readonly generatedAt: string;
  readonly since: string;
  readonly eventCount: number;
  readonly truncated: { readonly maxEvents: number } | null;
  readonly schedule: Schedule;
  readonly tables: readonly TableReport[];
  readonly durations: readonly PhaseStats[];
  readonly failuresByError: readonly { readonly error: string; readonly count: number }[];
  readonly retriesByStep: readonly { readonly step: string; readonly count: number }[];
  /** Failures, oldest first, with their messages. */
  readonly failures: readonly Warning[];
  readonly volumeWarnings: readonly Warning[];
  readonly alerts: readonly Warning[];
  readonly chain: ChainStatus;
}

/** The error names the volume guard records: a warning on a success, or the failure of 'alert' mode. */
const VOLUME_ERRORS: ReadonlySet<string> = new Set(['VolumeWarning', 'VolumeAnomalyError']);

/** Draws the report from the events. */
export function buildReport(input: ReportInput): Report {
  const events = [...input.events].sort((a, b) => -newestFirst(a, b));
  const byTable = new Map<string, AuditEvent[]>();
  for (const table of input.tables) byTable.set(table, []);
  for (const e of events) {
    if (e.sourceTable === null) continue;
    const list = byTable.get(e.sourceTable);
    if (list) list.push(e);
    else byTable.set(e.sourceTable, [e]);
  }
  const lastVerified = new Map<string, AuditEvent>();
  for (const e of [...input.lastVerified, ...events]) {
    if (e.eventType !== 'success' || e.sourceTable === null) continue;
    const seen = lastVerified.get(e.sourceTable);
    if (!seen || newestFirst(e, seen) < 0) lastVerified.set(e.sourceTable, e);
  }
  const limitMs = input.schedule.intervalMinutes * input.schedule.intervals * 60_000;
  const allSamples = new Map<PhaseName, number[]>();
  const tables = [...byTable.keys()].sort().map((table): TableReport => {
    const tableEvents = byTable.get(table) ?? [];
    const samples = phaseSamples(tableEvents);
    for (const [phase, values] of samples)
      allSamples.set(phase, (allSamples.get(phase) ?? []).concat(values));
    const runs = runsOf(tableEvents);
    return {
      table,
      runs,
      freshness: freshnessOf(lastVerified.get(table), input.now, limitMs),
      durations: statsOf(samples),
      failures: tableEvents.filter((e) => e.eventType === 'failure').length,
      retries: tableEvents.filter((e) => e.eventType === 'retry').length,
    };
  });
  const warning = (e: AuditEvent, kind: string): Warning => ({
    table: e.sourceTable,
    at: e.createdAt,
    executionId: e.executionId,
    pipeline: e.pipelineName,
    kind,
    message: readStepDurations(e.errorMessage).message ?? '',
  });
  const failures = events.filter((e) => e.eventType === 'failure');
  return {
    generatedAt: input.now.toISOString(),
    since: input.since,
    eventCount: events.length,
    truncated: input.truncated ?? null,
    schedule: input.schedule,
    tables,
    durations: statsOf(allSamples),
    failuresByError: countBy(failures.map((e) => e.errorType ?? 'unnamed')).map(([error, count]) => ({
      error,
      count,
    })),
    retriesByStep: countBy(
      events.filter((e) => e.eventType === 'retry').map((e) => retriedState(e) ?? 'unnamed'),
    ).map(([step, count]) => ({ step, count })),
    failures: failures.map((e) => warning(e, e.errorType ?? 'unnamed')),
    volumeWarnings: events
      .filter((e) => e.errorType !== null && VOLUME_ERRORS.has(e.errorType))
      .map((e) => warning(e, e.errorType as string)),
    alerts: events.filter((e) => e.eventType === 'alert').map((e) => warning(e, e.errorType ?? 'alert')),
    chain: input.chain,
  };
}

/** A table's runs, one per execution, oldest first. */
function runsOf(events: readonly AuditEvent[]): Run[] {
  return groupByExecution(events).map((group): Run => {
    const last = group[group.length - 1] as AuditEvent;
    const result = resultOf(group);
    const alert = group.find((e) => e.eventType === 'alert');
    const status: RunStatus =
      result === undefined
        ? 'running'
        : result.eventType === 'success'
          ? 'succeeded'
          : result.eventType === 'skipped'
            ? 'skipped'
            : 'failed';
    const rows =
      result === undefined
        ? null
        : status === 'succeeded'
          ? (result.rowsLoaded ?? result.recordCountAfter ?? result.recordCountBefore)
          : (result.rowsLoaded ?? result.rowsExported ?? null);
    return {
      executionId: last.executionId,
      jobId: last.jobId,
      pipeline: last.pipelineName,
      status,
      at: (result ?? last).createdAt,
      windowStart: (result ?? last).windowStart,
      windowEnd: (result ?? last).windowEnd,
      rows,
      durationMs: result?.durationMs ?? null,
      retries: group.filter((e) => e.eventType === 'retry').length,
      errorType: result?.errorType ?? null,
      errorMessage: readStepDurations(result?.errorMessage ?? null).message,
      alerted: alert !== undefined,
    };
  });
}

/** Each run's timed parts, in milliseconds, by phase. */
function phaseSamples(events: readonly AuditEvent[]): Map<PhaseName, number[]> {
  const samples = new Map<PhaseName, number[]>();
  const add = (phase: PhaseName, ms: number | null) => {
    if (ms === null || !Number.isFinite(ms) || ms < 0) return;
    const list = samples.get(phase);
    if (list) list.push(ms);
    else samples.set(phase, [ms]);
  };
  for (const group of groupByExecution(events)) {
    const start = group.find((e) => e.eventType === 'start');
    const result = resultOf(group);
    const alert = group.find((e) => e.eventType === 'alert');
    if (start) add('Plan', Date.parse(start.createdAt) - Date.parse(start.jobStartTime));
    if (start && result)
      add('CountSource → WriteAudit', Date.parse(result.createdAt) - Date.parse(start.createdAt));
    if (result) add('whole job', result.durationMs);
    const { durations } = readStepDurations(result?.errorMessage ?? null);
    for (const step of TIMED_STEPS) add(step, durations[step] ?? null);
    if (result && alert)
      add('ComposeAlert → alert', Date.parse(alert.createdAt) - Date.parse(result.createdAt));
  }
  return samples;
}

function statsOf(samples: ReadonlyMap<PhaseName, readonly number[]>): PhaseStats[] {
  return PHASES.flatMap(({ name }) => {
    const values = samples.get(name) ?? [];
    if (values.length === 0) return [];
    return [
      { phase: name, count: values.length, p50Ms: percentile(values, 50), p95Ms: percentile(values, 95) },
    ];
  });
}

/** The nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function freshnessOf(verified: AuditEvent | undefined, now: Date, limitMs: number): Freshness {
  if (!verified) {
    return { state: 'never verified', verifiedAt: null, windowEnd: null, ageMs: null, basis: null, limitMs };
  }
  // A window on a timestamp cursor ends at a time: how far behind the source the target is. A sequence
  // cursor, or a whole-table load, has no time of its own: the verification's time stands in.
  const windowEndMs =
    verified.windowEnd !== null && isTime(verified.windowEnd) ? Date.parse(verified.windowEnd) : null;
  const basis = windowEndMs !== null ? 'window end' : 'verified at';
  const ageMs = Math.max(0, now.getTime() - (windowEndMs ?? Date.parse(verified.createdAt)));
  return {
    state: ageMs > limitMs ? 'stale' : 'fresh',
    verifiedAt: verified.createdAt,
    windowEnd: verified.windowEnd,
    ageMs,
    basis,
    limitMs,
  };
}

function isTime(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text) && !Number.isNaN(Date.parse(text));
}

/** Events grouped by execution, each group oldest first, the groups in the order they began. */
function groupByExecution(events: readonly AuditEvent[]): AuditEvent[][] {
  const groups = new Map<string, AuditEvent[]>();
  for (const e of [...events].sort((a, b) => -newestFirst(a, b))) {
    const group = groups.get(e.executionId);
    if (group) group.push(e);
    else groups.set(e.executionId, [e]);
  }
  return [...groups.values()];
}

/** A run's result: its success, failure or skip. */
function resultOf(group: readonly AuditEvent[]): AuditEvent | undefined {
  return group.find(
    (e) => e.eventType === 'success' || e.eventType === 'failure' || e.eventType === 'skipped',
  );
}

/** Counts of each value, most frequent first, then by name. */
function countBy(values: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
