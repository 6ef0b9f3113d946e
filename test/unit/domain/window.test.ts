import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  epochMicros,
  inWindow,
  nextWindow,
  validateWindow,
  WHOLE_TABLE,
  windowLabel,
} from '../../../lambdas/domain/window';

describe('windows', () => {
  it('are half-open: the lower bound is in, the upper bound is out', () => {
    const w = { from: '10', to: '20' };
    expect(inWindow('10', w, 'integer')).toBe(true);
    expect(inWindow('19', w, 'integer')).toBe(true);
    expect(inWindow('20', w, 'integer')).toBe(false);
    expect(inWindow('9', w, 'integer')).toBe(false);
  });

  it('compare timestamps by instant, not by text', () => {
    // 01:00+01:00 is midnight UTC, so a start one microsecond past midnight is after the end.
    const w = { from: '2024-01-01T00:00:00.000001Z', to: '2024-01-01T01:00:00+01:00' };
    expect(() => validateWindow(w, 'timestamp')).toThrow(/must not be after/);
    expect(
      inWindow('2024-01-01T00:30:00+01:00', { from: null, to: '2024-01-01T00:00:00Z' }, 'timestamp'),
    ).toBe(true);
  });

  it('compare timestamps to the microsecond, as PostgreSQL stores them', () => {
    const w = { from: '2024-01-01T00:00:00.123456Z', to: '2024-01-01T00:00:00.123457Z' };
    expect(validateWindow(w, 'timestamp')).toEqual(w);
    expect(inWindow('2024-01-01T00:00:00.123456Z', w, 'timestamp')).toBe(true);
    expect(inWindow('2024-01-01 00:00:00.123457+00', w, 'timestamp')).toBe(false);
    expect(inWindow('2024-01-01T00:00:00.1234559Z', w, 'timestamp')).toBe(false);
    expect(epochMicros('2024-01-01T00:00:00.123456Z')).toBe(1_704_067_200_123_456n);
    expect(epochMicros('2024-01-01T01:00:00.5+01:00')).toBe(1_704_067_200_500_000n);
    expect(epochMicros('1969-12-31T23:59:59.999999Z')).toBe(-1n);
    expect(epochMicros('2024-01-01')).toBe(1_704_067_200_000_000n);
    expect(epochMicros('soon')).toBeNull();
  });

  it('accept an empty window, whose start equals its end, as valid', () => {
    const empty = { from: '2024-01-01T00:00:00.5Z', to: '2024-01-01T00:00:00.500000Z' };
    expect(validateWindow(empty, 'timestamp')).toEqual(empty);
    expect(inWindow('2024-01-01T00:00:00.5Z', empty, 'timestamp')).toBe(false);
    expect(validateWindow({ from: '7', to: '7' }, 'integer')).toEqual({ from: '7', to: '7' });
  });

  it('order microsecond timestamps exactly as their integers order', () => {
    fc.assert(
      fc.property(
        fc.bigInt(-1_000_000_000_000_000n, 10_000_000_000_000_000n),
        fc.bigInt(-1_000_000_000_000_000n, 10_000_000_000_000_000n),
        (a, b) => {
          const text = (us: bigint) => {
            const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
            const sub = us - ms * 1000n;
            return new Date(Number(ms)).toISOString().replace('Z', `${String(sub).padStart(3, '0')}Z`);
          };
          expect(epochMicros(text(a))).toBe(a);
          expect(inWindow(text(a), { from: null, to: text(b) }, 'timestamp')).toBe(a < b);
        },
      ),
    );
  });

  it('refuse malformed bounds with a message naming the bound', () => {
    expect(() => validateWindow({ from: 'yesterday', to: null }, 'timestamp')).toThrow(/window start/);
    expect(() => validateWindow({ from: null, to: '1.5' }, 'integer')).toThrow(
      /window end must be an integer/,
    );
  });

  it('start the next window a lookback below a timestamp watermark, open above for the export to bound', () => {
    expect(nextWindow('2024-01-01T00:30:00.000Z', 'timestamp', 300)).toEqual({
      from: '2024-01-01T00:25:00.000Z',
      to: null,
    });
    // Microseconds below the millisecond are dropped: the window only starts earlier, never later.
    expect(nextWindow('2024-01-01T00:30:00.123456Z', 'timestamp', 0)).toEqual({
      from: '2024-01-01T00:30:00.123Z',
      to: null,
    });
  });

  it('start the next window of an integer cursor at its watermark, and with none, open at both ends', () => {
    expect(nextWindow('100', 'integer', 300)).toEqual({ from: '100', to: null });
    expect(nextWindow(null, 'integer', 300)).toEqual({ from: null, to: null });
    expect(nextWindow(null, 'timestamp', 300)).toEqual({ from: null, to: null });
  });

  it('label windows stably and safely for object keys', () => {
    expect(windowLabel(WHOLE_TABLE)).toBe('all');
    const label = windowLabel({ from: '2024-01-01T00:00:00.000Z', to: '2024-01-01T00:30:00+00:00' });
    expect(label).toMatch(/^[0-9A-Za-z._-]+$/);
    expect(label).toBe(windowLabel({ from: '2024-01-01T00:00:00.000Z', to: '2024-01-01T00:30:00+00:00' }));
    expect(label).not.toBe(windowLabel({ from: '2024-01-01T00:00:00.000Z', to: null }));
  });
});
