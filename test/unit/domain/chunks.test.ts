import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkTiling,
  chunkCount,
  chunkItems,
  chunkLabel,
  type KeyPoint,
  type KeyRange,
  type KeyStats,
  keyRanges,
  MAX_CHUNKS,
} from '../../../lambdas/domain/chunks';

/** The ranges a key falls in by the half-open rule, under the column's order `compare`. */
function rangesOf<T>(
  key: T,
  ranges: readonly KeyRange[],
  parse: (s: string) => T,
  compare: (a: T, b: T) => number,
) {
  return ranges
    .map((r, i) => ({ r, i }))
    .filter(
      ({ r }) =>
        (r.from === null || compare(key, parse(r.from)) >= 0) &&
        (r.to === null || compare(key, parse(r.to)) < 0),
    )
    .map(({ i }) => i);
}

const stats = (points: readonly KeyPoint[], estimatedRows: number): KeyStats => ({
  kind: 'stats',
  column: 'id',
  estimatedRows,
  points,
});
const even = (values: readonly string[]): KeyPoint[] =>
  values.map((value, i) => ({ value, share: i < values.length - 1 ? 1 / (values.length - 1) : 0 }));

const byBigInt = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('chunks of a historical load', () => {
  it('keep a table that fits one chunk, or has no statistics, whole', () => {
    expect(keyRanges(stats(even(['1', '500', '1000']), 1000), 1000)).toEqual([{ from: null, to: null }]);
    expect(keyRanges({ kind: 'none', reason: 'never analyzed' }, 10)).toEqual([{ from: null, to: null }]);
    expect(keyRanges(stats([], 1_000_000), 10)).toEqual([{ from: null, to: null }]);
  });

  it('split at the histogram bounds where each next share of the rows begins, open at both ends', () => {
    const bounds = Array.from({ length: 101 }, (_, i) => String(1 + i * 10));
    expect(keyRanges(stats(even(bounds), 1000), 250)).toEqual([
      { from: null, to: '251' },
      { from: '251', to: '501' },
      { from: '501', to: '751' },
      { from: '751', to: null },
    ]);
  });

  it('weigh a most common value by its frequency, and split on text bounds as given', () => {
    // 'b' holds 70% of the rows: of ten chunks wanted it makes one of its own, and no empty ones.
    const points: KeyPoint[] = [
      { value: 'a', share: 0.1 },
      { value: 'b', share: 0.7 },
      { value: 'c', share: 0.1 },
      { value: 'd', share: 0.1 },
      { value: 'e', share: 0 },
    ];
    expect(keyRanges(stats(points, 1000), 100)).toEqual([
      { from: null, to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'd' },
      { from: 'd', to: null },
    ]);
  });

  it('never make more chunks than split points, nor more than the most', () => {
    expect(keyRanges(stats(even(['5', '6']), 1_000_000), 1)).toHaveLength(2);
    expect(chunkCount(Number.MAX_SAFE_INTEGER, 1)).toBe(MAX_CHUNKS);
    expect(() => chunkCount(10, 0)).toThrow(/chunkRows/);
  });

  it('put every integer key in exactly one range, for any statistics and sizes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), {
          minLength: 0,
          maxLength: 60,
        }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 60, maxLength: 60 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }),
        (values, shares, rows, chunkRows, probes) => {
          const sorted = [...values].sort(byBigInt);
          const points = sorted.map((v, i) => ({ value: String(v), share: shares[i] ?? 0 }));
          const ranges = keyRanges(stats(points, rows), chunkRows);
          checkTiling(ranges, (a, b) => byBigInt(BigInt(a), BigInt(b)));
          expect(ranges.length).toBeLessThanOrEqual(Math.min(MAX_CHUNKS, Math.max(1, sorted.length)));
          const edges = sorted.flatMap((v) => [v - 1n, v, v + 1n]);
          for (const key of [...edges, ...probes]) {
            expect(rangesOf(key, ranges, BigInt, byBigInt)).toHaveLength(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('put every text key in exactly one range, under the order the bounds came in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 6 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.string({ maxLength: 7 }), { maxLength: 20 }),
        (values, rows, chunkRows, probes) => {
          const sorted = [...values].sort(byCodeUnits);
          const ranges = keyRanges(stats(even(sorted), rows), chunkRows);
          checkTiling(ranges, byCodeUnits);
          for (const key of [...sorted, ...sorted.map((v) => `${v}\u0000`), '', ...probes]) {
            expect(rangesOf(key, ranges, (s) => s, byCodeUnits)).toHaveLength(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse ranges that leave a gap or overlap', () => {
    expect(() =>
      checkTiling([
        { from: null, to: '5' },
        { from: '6', to: null },
      ]),
    ).toThrow(/not where/);
    expect(() => checkTiling([{ from: '1', to: null }])).toThrow(/open below/);
    expect(() =>
      checkTiling([
        { from: null, to: '5' },
        { from: '5', to: '5' },
        { from: '5', to: null },
      ]),
    ).toThrow(/empty/);
    expect(() =>
      checkTiling(
        [
          { from: null, to: 'b' },
          { from: 'b', to: 'a' },
          { from: 'a', to: null },
        ],
        byCodeUnits,
      ),
    ).toThrow(/empty/);
  });

  it('number the items and label them for keys', () => {
    expect(
      chunkItems([
        { from: null, to: '3' },
        { from: '3', to: null },
      ]),
    ).toEqual([
      { index: 0, from: null, to: '3' },
      { index: 1, from: '3', to: null },
    ]);
    expect(chunkLabel(3)).toBe('chunk-00003');
  });
});
