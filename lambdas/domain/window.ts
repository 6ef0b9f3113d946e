// Windows are half-open ranges `[from, to)` over a table's cursor column (incremental) or primary key
// (historical chunks). Bounds are text so that timestamps and integers travel alike between steps.

export type CursorKind = 'timestamp' | 'integer';

export interface Window {
  /** Inclusive lower bound; null means unbounded. */
  readonly from: string | null;
  /** Exclusive upper bound; null means unbounded. */
  readonly to: string | null;
}

export const WHOLE_TABLE: Window = { from: null, to: null };

function compare(a: string, b: string, kind: CursorKind): number {
  if (kind === 'integer') {
    const d = BigInt(a) - BigInt(b);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  return Date.parse(a) - Date.parse(b);
}

export function parseBound(value: string, kind: CursorKind, what: string): string {
  if (kind === 'integer') {
    if (!/^-?\d+$/.test(value)) throw new RangeError(`${what} must be an integer, got '${value}'`);
    return BigInt(value).toString();
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${what} must be an ISO-8601 timestamp, got '${value}'`);
  return value;
}

/** Checks that a window is well formed: both bounds parse and `from < to`. */
export function validateWindow(window: Window, kind: CursorKind): Window {
  const from = window.from === null ? null : parseBound(window.from, kind, 'window start');
  const to = window.to === null ? null : parseBound(window.to, kind, 'window end');
  if (from !== null && to !== null && compare(from, to, kind) >= 0) {
    throw new RangeError(`window start '${from}' must be before window end '${to}'`);
  }
  return { from, to };
}

export function inWindow(value: string, window: Window, kind: CursorKind): boolean {
  if (window.from !== null && compare(value, window.from, kind) < 0) return false;
  if (window.to !== null && compare(value, window.to, kind) >= 0) return false;
  return true;
}

/**
 * The next incremental window: from the last verified watermark minus the lookback, up to `upper`,
 * which the caller takes from the same snapshot the rows are read in. With no watermark yet the
 * window is open below, so the first run reads everything committed before `upper`.
 */
export function nextWindow(opts: {
  watermark: string | null;
  upper: string;
  lookback: number;
  kind: CursorKind;
}): Window {
  const { watermark, upper, lookback, kind } = opts;
  if (watermark === null) return { from: null, to: upper };
  let from: string;
  if (kind === 'integer') from = (BigInt(watermark) - BigInt(lookback)).toString();
  else from = new Date(Date.parse(watermark) - lookback).toISOString();
  if (compare(from, upper, kind) >= 0) {
    // Nothing new is visible yet: an empty window at the watermark keeps the chain unbroken.
    return { from: upper, to: upper };
  }
  return { from, to: upper };
}

/** Splits `[min, max]` of an integer key into at most `parts` contiguous half-open ranges. */
export function splitKeyRange(min: bigint, max: bigint, parts: number): Window[] {
  if (parts < 1 || !Number.isInteger(parts))
    throw new RangeError(`parts must be a positive integer, got ${parts}`);
  if (max < min) return [];
  const span = max - min + 1n;
  const n = BigInt(parts) > span ? span : BigInt(parts);
  const size = (span + n - 1n) / n;
  const out: Window[] = [];
  for (let lo = min; lo <= max; lo += size) {
    const hi = lo + size;
    out.push({ from: lo.toString(), to: hi > max ? (max + 1n).toString() : hi.toString() });
  }
  return out;
}

/** A stable, key-safe label for a window, used in S3 keys so that a retry overwrites its own files. */
export function windowLabel(window: Window): string {
  const enc = (v: string | null) => (v === null ? 'open' : v.replace(/[^0-9A-Za-z.-]/g, '_'));
  if (window.from === null && window.to === null) return 'all';
  return `${enc(window.from)}--${enc(window.to)}`;
}
