// Job ids: ULIDs, so they sort by creation time and are unique without coordination.
import { monotonicFactory } from 'ulid';

const next = monotonicFactory();
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newJobId(now: number = Date.now()): string {
  return next(now);
}

export function isJobId(value: string): boolean {
  return ULID.test(value);
}
