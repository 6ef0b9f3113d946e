// What the audit log says about a table's past, as pure functions of its events: where its last verified
// window ended (the watermark), how large its recent windows were, whether an execution has recorded its
// last word on it, and which tables an execution already started.
import { type AuditEvent, oldestFirst } from './audit';

/** The events that close a table's job: after one of them its execution is done with the table. */
const FINAL_EVENTS: ReadonlySet<string> = new Set(['success', 'failure', 'skipped', 'alert']);

/** Newest first, in the order the events were written. */
export function newestFirst(a: AuditEvent, b: AuditEvent): number {
  return oldestFirst(b, a);
}

/**
 * Each table's watermark: the end of its latest verified (`success`) window, null when that window was
 * open above (a historical load of an empty table). Tables with no success are absent.
 */
export function lastVerifiedWindows(
  events: readonly AuditEvent[],
  tables: Iterable<string>,
): Map<string, string | null> {
  const wanted = new Set(tables);
  const latest = new Map<string, AuditEvent>();
  for (const e of events) {
    if (e.eventType !== 'success' || e.sourceTable === null || !wanted.has(e.sourceTable)) continue;
    const seen = latest.get(e.sourceTable);
    if (!seen || newestFirst(e, seen) < 0) latest.set(e.sourceTable, e);
  }
  return new Map([...latest].map(([table, e]) => [table, e.windowEnd]));
}

/** The source counts of a table's latest `n` verified incremental windows, newest first. */
export function recentVolumes(events: readonly AuditEvent[], table: string, n: number): number[] {
  return events
    .filter(
      (e) =>
        e.eventType === 'success' &&
        e.pipelineName === 'incremental' &&
        e.sourceTable === table &&
        e.recordCountBefore !== null,
    )
    .sort(newestFirst)
    .slice(0, n)
    .map((e) => e.recordCountBefore as number);
}

/** Whether an execution's events hold its last word on a table: a success, failure or alert. */
export function hasFinished(events: readonly AuditEvent[], executionId: string, table: string): boolean {
  return events.some(
    (e) => e.executionId === executionId && e.sourceTable === table && FINAL_EVENTS.has(e.eventType),
  );
}

/** The `start` events an execution has written, in the order they were written. */
export function startsOf(events: readonly AuditEvent[], executionId: string): AuditEvent[] {
  return events.filter((e) => e.executionId === executionId && e.eventType === 'start').sort(oldestFirst);
}
