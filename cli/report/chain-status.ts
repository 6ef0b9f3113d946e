// What the report says about the audit log's hash chain: a verdict given to the report from outside,
// so that it can come from the full verifier (`tally audit verify`) as well as from the check below,
// which covers only the events the report itself read.
import { type AuditEvent, chainOrder, hashEvent, verifyChain } from '../../lambdas/domain/audit';

export interface ChainStatus {
  readonly verdict: 'intact' | 'broken';
  /** How many events the verdict covers. */
  readonly checked: number;
  /** What was checked, for a person: which events, and whether their links were. */
  readonly scope: string;
  /** Who checked. */
  readonly checkedBy: string;
  /** The first event that does not hold, and why. */
  readonly broken?: { readonly eventId: string; readonly reason: string };
}

/**
 * Checks the chain over the events the report read. A contiguous stretch of the chain (every event since
 * a time) is walked link by link from its first event; the events of one table are not contiguous, so
 * only each one's own hash is checked.
 */
export function chainStatusOfEvents(
  events: readonly AuditEvent[],
  { contiguous }: { readonly contiguous: boolean },
): ChainStatus {
  const checkedBy = 'tally report, over the events it read';
  if (contiguous) {
    const ordered = chainOrder(events);
    const found = verifyChain(ordered);
    const scope = `every event of the period, hash and link, from the first read (${ordered[0]?.eventId ?? 'none'})`;
    return found === null
      ? { verdict: 'intact', checked: ordered.length, scope, checkedBy }
      : {
          verdict: 'broken',
          checked: ordered.length,
          scope,
          checkedBy,
          broken: { eventId: found.eventId, reason: found.reason },
        };
  }
  const scope = "each event's own hash; the links between them are not (the events of one table)";
  for (const event of events) {
    const { rowHash, ...rest } = event;
    if (hashEvent(rest) !== rowHash) {
      return {
        verdict: 'broken',
        checked: events.length,
        scope,
        checkedBy,
        broken: { eventId: event.eventId, reason: 'content changed' },
      };
    }
  }
  return { verdict: 'intact', checked: events.length, scope, checkedBy };
}
