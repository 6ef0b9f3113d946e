// What an audit filter selects, as a pure function over events: the meaning every adapter's query
// follows (the Snowflake adapter in SQL), and the fake audit table of the unit tests uses as it is.
import type { AuditFilter } from '../ports';
import { type AuditEvent, oldestFirst } from './audit';
import { InvalidInputError } from './errors';

/** Whether one event matches every field of the filter except `newest`. */
export function matchesFilter(e: AuditEvent, f: AuditFilter): boolean {
  return (
    (f.jobId === undefined || e.jobId === f.jobId) &&
    (f.executionId === undefined || e.executionId === f.executionId) &&
    (f.table === undefined || e.sourceTable === f.table || e.targetTable === f.table) &&
    (f.sourceTables === undefined || (e.sourceTable !== null && f.sourceTables.includes(e.sourceTable))) &&
    (f.eventTypes === undefined || f.eventTypes.includes(e.eventType)) &&
    (f.pipeline === undefined || e.pipelineName === f.pipeline) &&
    (f.eventIds === undefined || f.eventIds.includes(e.eventId)) &&
    (f.since === undefined || Date.parse(e.createdAt) >= Date.parse(f.since)) &&
    (f.after === undefined || isAfter(e, f.after))
  );
}

/** Whether `e` comes after `mark` in the log's order: later, or at the same instant with a larger id. */
function isAfter(e: AuditEvent, mark: NonNullable<AuditFilter['after']>): boolean {
  const at = Date.parse(e.createdAt);
  const markAt = Date.parse(mark.createdAt);
  return at > markAt || (at === markAt && e.eventId > mark.eventId);
}

/** The events the filter selects, oldest first. */
export function selectEvents(events: readonly AuditEvent[], f: AuditFilter): AuditEvent[] {
  const matching = events.filter((e) => matchesFilter(e, f)).sort(oldestFirst);
  if (f.oldest !== undefined) return matching.slice(0, f.oldest);
  if (f.newest === undefined) return matching;
  const newest = f.newest;
  if (!f.perTable) return matching.slice(Math.max(0, matching.length - newest));
  const kept = new Map<string | null, number>();
  const out: AuditEvent[] = [];
  for (let i = matching.length - 1; i >= 0; i--) {
    const e = matching[i] as AuditEvent;
    const n = kept.get(e.sourceTable) ?? 0;
    if (n >= newest) continue;
    kept.set(e.sourceTable, n + 1);
    out.push(e);
  }
  return out.reverse();
}

/** Refuses a filter no adapter could answer sensibly: an empty list selects nothing by accident. */
export function checkFilter(f: AuditFilter): void {
  for (const key of ['sourceTables', 'eventTypes', 'eventIds'] as const) {
    if (f[key] !== undefined && f[key].length === 0) {
      throw new InvalidInputError(`audit filter: ${key} is empty; leave it out to select every event`);
    }
  }
  if (f.newest !== undefined && (!Number.isInteger(f.newest) || f.newest < 1)) {
    throw new InvalidInputError(`audit filter: newest must be a positive integer, got ${f.newest}`);
  }
  if (f.oldest !== undefined && (!Number.isInteger(f.oldest) || f.oldest < 1)) {
    throw new InvalidInputError(`audit filter: oldest must be a positive integer, got ${f.oldest}`);
  }
  if (f.oldest !== undefined && f.newest !== undefined)
    throw new InvalidInputError('audit filter: give oldest or newest, not both');
  if (f.perTable && f.newest === undefined)
    throw new InvalidInputError('audit filter: perTable needs newest');
}
