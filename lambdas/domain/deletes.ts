// Deletes found: the incremental pipeline reads rows by their cursor, and a row deleted at the source
// leaves no cursor to read. A periodic check compares keys alone between the source and the target and
// handles the keys only the target holds as the table's `deletes` mode says. These are its pure rules:
// the modes, the cadence (an ISO 8601 duration) and when a check is due, and how many keys an event names.

export const DELETE_MODES = ['off', 'report', 'soft', 'propagate'] as const;
export type DeleteMode = (typeof DELETE_MODES)[number];

/** How often a table's delete check runs when its configuration does not say. */
export const DEFAULT_DELETE_CHECK_EVERY = 'P1D';

/** The target column that marks a row deleted at the source, in `soft` mode. */
export const DELETED_MARK_COLUMN = '_TALLY_DELETED_AT';

/** How many keys a `deletes` event and a step's state name; the count says how many there were. */
export const LISTED_KEYS = 20;

/** At most this many keys are found per check (the rest wait for the next, which is due at once). */
export const MAX_KEYS_PER_CHECK = 1000;

/** The errorType of a `deletes` event whose check found more keys than it could handle in one run. */
export const INCOMPLETE_CHECK = 'DeleteCheckIncomplete';

const DURATION = /^P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?)$/;

/**
 * An ISO 8601 duration (`P1D`, `PT6H`, `P1DT12H`, `PT30M`, `P2W`) in milliseconds. Years and months are
 * refused: their length depends on the calendar, and a cadence must be a fixed span.
 */
export function parseDuration(text: string): number {
  const datePart = text.split('T')[0] ?? '';
  if (text.startsWith('P') && /[YM]/.test(datePart)) {
    throw new Error(
      `'${text}' has years or months, whose length varies: give weeks, days, hours, minutes or seconds (P30D, not P1M)`,
    );
  }
  const m = DURATION.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) {
    throw new Error(
      `'${text}' is not an ISO 8601 duration such as P1D, PT6H, P1DT12H or PT30M (weeks alone, as P2W)`,
    );
  }
  const [, weeks, days, hours, minutes, seconds] = m;
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  return (
    n(weeks) * 7 * 86_400_000 +
    n(days) * 86_400_000 +
    n(hours) * 3_600_000 +
    n(minutes) * 60_000 +
    Math.round(n(seconds) * 1000)
  );
}

/** The last delete check of a table, as its newest `deletes` event records it. */
export interface LastCheck {
  /** When the check's event was written (ISO 8601). */
  readonly at: string;
  /** The event's errorType: INCOMPLETE_CHECK when keys were left for the next check. */
  readonly errorType: string | null;
}

export type Due = { readonly due: true } | { readonly due: false; readonly next: string };

/**
 * Whether a table's delete check runs now: when it never ran, when the last one left keys for the next,
 * or once `everyMs` has passed since the last one.
 */
export function deleteCheckDue(last: LastCheck | null, everyMs: number, now: Date): Due {
  if (last === null || last.errorType === INCOMPLETE_CHECK) return { due: true };
  const next = Date.parse(last.at) + everyMs;
  if (Number.isNaN(next) || next <= now.getTime()) return { due: true };
  return { due: false, next: new Date(next).toISOString() };
}

/** A key list bounded for an event or a state: the first `max` keys and how many there were in all. */
export function boundKeys<T>(keys: readonly T[], max = LISTED_KEYS): { listed: T[]; count: number } {
  return { listed: keys.slice(0, Math.max(0, max)), count: keys.length };
}

/** Keys in batches of `size`, for statements that bind one parameter per key. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`a batch size must be a positive integer, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
