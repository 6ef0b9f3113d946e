import { describe, expect, it } from 'vitest';
import {
  batches,
  boundKeys,
  deleteCheckDue,
  INCOMPLETE_CHECK,
  parseDuration,
} from '../../../lambdas/domain/deletes';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  it('reads days, hours, minutes, seconds and weeks into milliseconds', () => {
    expect(parseDuration('P1D')).toBe(DAY);
    expect(parseDuration('PT6H')).toBe(6 * HOUR);
    expect(parseDuration('P1DT12H')).toBe(DAY + 12 * HOUR);
    expect(parseDuration('PT30M')).toBe(30 * 60_000);
    expect(parseDuration('PT1.5S')).toBe(1500);
    expect(parseDuration('P2W')).toBe(14 * DAY);
    expect(parseDuration('PT0S')).toBe(0);
  });

  it('refuses years and months, whose length varies, saying so', () => {
    expect(() => parseDuration('P1M')).toThrow(/years or months/);
    expect(() => parseDuration('P1Y2D')).toThrow(/years or months/);
    // M after T is minutes, not months.
    expect(parseDuration('PT1M')).toBe(60_000);
  });

  it('refuses what is not an ISO 8601 duration, naming the text', () => {
    for (const text of ['', 'P', 'PT', '1D', 'P1H', 'PT1D', 'P1W2D', 'daily', 'P-1D']) {
      expect(() => parseDuration(text), text).toThrow(`'${text}' is not an ISO 8601 duration`);
    }
  });
});

describe('deleteCheckDue', () => {
  const now = new Date('2025-01-02T12:00:00.000Z');

  it('is due when the table was never checked', () => {
    expect(deleteCheckDue(null, DAY, now)).toEqual({ due: true });
  });

  it('is due once the cadence has passed since the last check, and not before', () => {
    const last = { at: '2025-01-01T12:00:00.000Z', errorType: null };
    expect(deleteCheckDue(last, DAY, now)).toEqual({ due: true });
    expect(deleteCheckDue(last, DAY + 1, now)).toEqual({ due: false, next: '2025-01-02T12:00:00.001Z' });
    expect(deleteCheckDue({ ...last, at: '2025-01-02T06:00:00.000Z' }, 6 * HOUR, now)).toEqual({
      due: true,
    });
    expect(deleteCheckDue({ ...last, at: '2025-01-02T06:00:00.001Z' }, 6 * HOUR, now).due).toBe(false);
  });

  it('is due at once after a check that left keys for the next', () => {
    const last = { at: '2025-01-02T11:59:00.000Z', errorType: INCOMPLETE_CHECK };
    expect(deleteCheckDue(last, DAY, now)).toEqual({ due: true });
  });

  it('is due on every run with a zero cadence', () => {
    expect(deleteCheckDue({ at: now.toISOString(), errorType: null }, 0, now)).toEqual({ due: true });
  });
});

describe('boundKeys', () => {
  it('lists at most the first N keys and counts them all', () => {
    const keys = Array.from({ length: 25 }, (_, i) => `(id)=(${i})`);
    const bounded = boundKeys(keys);
    expect(bounded.count).toBe(25);
    expect(bounded.listed).toEqual(keys.slice(0, 20));
    expect(boundKeys(keys, 3)).toEqual({ listed: keys.slice(0, 3), count: 25 });
    expect(boundKeys(['a'], 3)).toEqual({ listed: ['a'], count: 1 });
  });
});

describe('batches', () => {
  it('splits keys into batches of at most the given size, in order', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 2)).toEqual([]);
    expect(() => batches([1], 0)).toThrow(/positive integer/);
  });
});
