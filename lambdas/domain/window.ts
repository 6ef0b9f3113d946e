// Windows are half-open ranges `[from, to)` over a table's cursor column. Bounds are text so that
// timestamps and integers travel alike between steps.

export type CursorKind = 'timestamp' | 'integer';

export interface Window {
  /** Inclusive lower bound; null means unbounded. */
  readonly from: string | null;
  /** Exclusive upper bound; null means unbounded. */
  readonly to: string | null;
}

export const WHOLE_TABLE: Window = { from: null, to: null };

const FRACTION = /(\d{2}:\d{2}:\d{2})\.(\d+)/;

/**
 * A timestamp as microseconds since the epoch, or null when it does not parse. PostgreSQL keeps
 * microseconds and `Date.parse` drops everything below the millisecond, so the first three fraction
 * digits go to `Date.parse` (which knows the zone forms) and the next three are added exactly; digits
 * below the microsecond are dropped.
 */
export function epochMicros(value: string): bigint | null {
  const digits = FRACTION.exec(value)?.[2] ?? '';
  const millisText =
    digits === '' ? value : value.replace(FRACTION, `$1.${digits.slice(0, 3).padEnd(3, '0')}`);
  const ms = Date.parse(millisText);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1000n + BigInt(digits.slice(3, 6).padEnd(3, '0'));
}

/** Orders two bounds of the same kind: timestamps by instant to the microsecond, integers by value. */
export function compareBounds(a: string, b: string, kind: CursorKind): number {
  const d = kind === 'integer' ? BigInt(a) - BigInt(b) : micros(a) - micros(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function micros(value: string): bigint {
  const us = epochMicros(value);
  if (us === null) throw new RangeError(`'${value}' is not an ISO-8601 timestamp`);
  return us;
}

export function parseBound(value: string, kind: CursorKind, what: string): string {
  if (kind === 'integer') {
    if (!/^-?\d+$/.test(value)) throw new RangeError(`${what} must be an integer, got '${value}'`);
    return BigInt(value).toString();
  }
  if (epochMicros(value) === null)
    throw new RangeError(`${what} must be an ISO-8601 timestamp, got '${value}'`);
  return value;
}

/**
 * Checks that a window is well formed: both bounds parse and `from <= to`. An empty window (`from = to`)
 * is valid: it is what an export reports when nothing new is visible yet.
 */
export function validateWindow(window: Window, kind: CursorKind): Window {
  const from = window.from === null ? null : parseBound(window.from, kind, 'window start');
  const to = window.to === null ? null : parseBound(window.to, kind, 'window end');
  if (from !== null && to !== null && compareBounds(from, to, kind) > 0) {
    throw new RangeError(`window start '${from}' must not be after window end '${to}'`);
  }
  return { from, to };
}

export function inWindow(value: string, window: Window, kind: CursorKind): boolean {
  if (window.from !== null && compareBounds(value, window.from, kind) < 0) return false;
  if (window.to !== null && compareBounds(value, window.to, kind) >= 0) return false;
  return true;
}

/**
 * Where the next incremental window of a table starts: `[watermark − lookback, open)`, open above because
 * the export fixes the upper bound in its own snapshot (behind the lag and every transaction still in
 * flight), and that bound becomes the next watermark once verified. With no watermark yet the window is
 * open below too. An integer cursor has no clock to look back on: its window starts at the watermark.
 * Dropping the watermark's microseconds only moves a timestamp start down: more overlap, never a gap.
 */
export function nextWindow(watermark: string | null, kind: CursorKind, lookbackSeconds: number): Window {
  if (watermark === null || kind === 'integer') return { from: watermark, to: null };
  return { from: new Date(Date.parse(watermark) - lookbackSeconds * 1000).toISOString(), to: null };
}

/** A stable, key-safe label for a window, used in S3 keys so that a retry overwrites its own files. */
export function windowLabel(window: Window): string {
  const enc = (v: string | null) => (v === null ? 'open' : v.replace(/[^0-9A-Za-z.-]/g, '_'));
  if (window.from === null && window.to === null) return 'all';
  return `${enc(window.from)}--${enc(window.to)}`;
}
