// Ids of jobs and audit events: ULIDs from one monotonic generator, so they sort in creation order, even
// within one millisecond, and are unique without coordination.
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newJobId(now: number = Date.now()): string {
  return next(now);
}

/** An audit event's id: within one process, later events always get larger ids. */
export function newEventId(now: number = Date.now()): string {
  return next(now);
}

export function isJobId(value: string): boolean {
  return ULID.test(value);
}
