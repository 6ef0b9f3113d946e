import { describe, expect, it } from 'vitest';
import { CHUNKS_ACCEPTANCE, chunksFigures, equalRanges, spanSeconds } from '../../../bench/chunks-bench';
import type { BenchRun } from '../../../bench/export-bench';

const settings = { rows: 1000, repeat: 1, compression: { codec: 'zstd', level: 1 }, chunks: 2 } as const;

function run(rows: number, startedAt: number, endedAt: number): BenchRun {
  return {
    kind: 'export',
    rows,
    rawBytes: rows * 100,
    compressedBytes: rows * 20,
    files: 1,
    seconds: (endedAt - startedAt) / 1000,
    startedAt,
    endedAt,
    cpuSeconds: (endedAt - startedAt) / 1000,
    maxRssBytes: 1,
  };
}

describe('one stream against chunks at once', () => {
  it('cuts the key 1..rows into equal ranges, open at both ends', () => {
    expect(equalRanges(1000, 2)).toEqual([
      { from: null, to: '501' },
      { from: '501', to: null },
    ]);
    expect(equalRanges(10, 3)).toEqual([
      { from: null, to: '4' },
      { from: '4', to: '7' },
      { from: '7', to: null },
    ]);
    expect(equalRanges(10, 1)).toEqual([{ from: null, to: null }]);
  });

  it('times the chunks from the first start to the last end, so an early starter gains nothing', () => {
    expect(spanSeconds([run(500, 1000, 3000), run(500, 2000, 5000)])).toBe(4);
  });

  it('passes chunks that finish 1.25 times sooner and fails them below the bar', () => {
    const fast = chunksFigures(settings, [
      { stream: run(1000, 0, 5000), chunks: [run(500, 0, 4000), run(500, 0, 3900)] },
    ]);
    expect(fast.speedup).toBe(1.25);
    expect(fast.acceptance.speedup).toBe(true);
    const slow = chunksFigures(settings, [
      { stream: run(1000, 0, 5000), chunks: [run(500, 0, 4100), run(500, 100, 4010)] },
    ]);
    expect(slow.speedup).toBeLessThan(CHUNKS_ACCEPTANCE.minSpeedup);
    expect(slow.acceptance.speedup).toBe(false);
  });

  it('takes the median round of each side', () => {
    const figures = chunksFigures({ ...settings, repeat: 3 }, [
      { stream: run(1000, 0, 9000), chunks: [run(1000, 0, 1000)] },
      { stream: run(1000, 0, 4000), chunks: [run(1000, 0, 2000)] },
      { stream: run(1000, 0, 3000), chunks: [run(1000, 0, 8000)] },
    ]);
    expect(figures.streamSeconds).toBe(4);
    expect(figures.chunksSeconds).toBe(2);
  });

  it('refuses a round whose chunks did not export the stream’s rows between them', () => {
    expect(() =>
      chunksFigures(settings, [{ stream: run(1000, 0, 5000), chunks: [run(500, 0, 1), run(499, 0, 1)] }]),
    ).toThrow(/round 1: the chunks exported 999 rows between them, the stream 1000/);
  });
});
