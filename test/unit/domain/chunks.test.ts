import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkTiling,
  chunkCount,
  chunkItems,
  chunkLabel,
  integerKeyRanges,
  MAX_CHUNKS,
} from '../../../lambdas/domain/chunks';

/** The range a key falls in, by the half-open rule. */
function rangeOf(key: bigint, ranges: ReturnType<typeof integerKeyRanges>): number[] {
  return ranges
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => (r.from === null || key >= BigInt(r.from)) && (r.to === null || key < BigInt(r.to)))
    .map(({ i }) => i);
}

describe('chunks of a historical load', () => {
  it('keep a table that fits one chunk whole', () => {
    expect(integerKeyRanges({ min: '1', max: '1000', estimatedRows: 1000 }, 1000)).toEqual([
      { from: null, to: null },
    ]);
    expect(integerKeyRanges({ min: null, max: null, estimatedRows: 0 }, 10)).toEqual([
      { from: null, to: null },
    ]);
  });

  it('split a larger table into equal key steps, open at both ends', () => {
    expect(integerKeyRanges({ min: '1', max: '100', estimatedRows: 100 }, 25)).toEqual([
      { from: null, to: '26' },
      { from: '26', to: '51' },
      { from: '51', to: '76' },
      { from: '76', to: null },
    ]);
  });

  it('take a never-analyzed table to hold one row per key value', () => {
    expect(integerKeyRanges({ min: '0', max: '9', estimatedRows: -1 }, 5)).toHaveLength(2);
  });

  it('never make more chunks than key values, nor more than the most', () => {
    expect(integerKeyRanges({ min: '5', max: '6', estimatedRows: 1_000_000 }, 1)).toHaveLength(2);
    expect(chunkCount(Number.MAX_SAFE_INTEGER, 1)).toBe(MAX_CHUNKS);
    expect(() => chunkCount(10, 0)).toThrow(/chunkRows/);
  });

  it('put every key in exactly one range, for any bounds and sizes', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 20 }),
        (min, width, rows, chunkRows, probes) => {
          const max = min + width;
          const ranges = integerKeyRanges(
            { min: String(min), max: String(max), estimatedRows: rows },
            chunkRows,
          );
          checkTiling(ranges);
          expect(ranges.length).toBeLessThanOrEqual(MAX_CHUNKS);
          for (const key of [min, max, min - 1n, max + 1n, (min + max) / 2n, ...probes]) {
            expect(rangeOf(key, ranges)).toHaveLength(1);
          }
        },
      ),
      { numRuns: 100 },
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
