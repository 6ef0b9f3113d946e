// The codec benchmark's arithmetic: CPU-seconds per GB, bytes per row and the ratios against gzip 6 come
// from the median runs, and the recommended codec is the cheapest in CPU that writes no more bytes.
import { describe, expect, it } from 'vitest';
import { type CodecRun, codecFigures, recommendedCompression } from '../../../bench/codec-report';
import { endToEndFigures } from '../../../bench/end-to-end-bench';
import type { Compression } from '../../../lambdas/domain/compression';

const run = (compression: Compression, cpuSeconds: number, compressedBytes: number): CodecRun => ({
  compression,
  rows: 1_000_000,
  rawBytes: 125_000_000,
  compressedBytes,
  cpuSeconds,
  seconds: cpuSeconds,
  node: 'v24.0.0',
});
const gzip6: Compression = { codec: 'gzip', level: 6 };
const gzip1: Compression = { codec: 'gzip', level: 1 };
const zstd1: Compression = { codec: 'zstd', level: 1 };
const zstd9: Compression = { codec: 'zstd', level: 9 };

describe('codecFigures', () => {
  it('gives CPU-seconds per 10^9 raw bytes and compressed bytes per row of the median run, each against gzip 6', () => {
    const figures = codecFigures([
      run(gzip6, 3.0, 23_500_000),
      run(gzip6, 9.0, 23_500_000), // a busy moment: not the median
      run(gzip6, 2.5, 23_500_000),
      run(zstd1, 1.0, 20_000_000),
    ]);
    expect(figures).toEqual([
      {
        codec: 'gzip',
        level: 6,
        cpuSecondsPerGb: 24, // 3.0 s / 0.125 GB
        bytesPerRow: 23.5,
        ratio: 5.32,
        cpuVsBaseline: 1,
        bytesVsBaseline: 1,
      },
      {
        codec: 'zstd',
        level: 1,
        cpuSecondsPerGb: 8,
        bytesPerRow: 20,
        ratio: 6.25,
        cpuVsBaseline: 0.33,
        bytesVsBaseline: 0.85,
      },
    ]);
  });

  it('refuses figures without their baseline', () => {
    expect(() => codecFigures([run(zstd1, 1, 1)])).toThrow(/needs its baseline, gzip:6/);
  });
});

describe('recommendedCompression', () => {
  it('picks the least CPU among the codecs that write no more bytes per row than gzip 6', () => {
    // gzip 1 is cheapest but larger; zstd 9 smallest but dearer; zstd 1 is both cheaper and smaller.
    const runs = [
      run(gzip6, 3.0, 23_500_000),
      run(gzip1, 0.9, 25_500_000),
      run(zstd1, 1.0, 20_000_000),
      run(zstd9, 9.0, 19_000_000),
    ];
    expect(recommendedCompression(runs)).toEqual(zstd1);
  });

  it('keeps gzip 6 when nothing else is both no larger and cheaper', () => {
    expect(recommendedCompression([run(gzip6, 3.0, 23_500_000), run(gzip1, 2.0, 25_500_000)])).toEqual(gzip6);
  });
});

describe('endToEndFigures', () => {
  it('gives rows per second of both sides and the ratio of the unrounded times', () => {
    expect(endToEndFigures(4_700_000, 47, 18.8)).toEqual({
      pipeline: { seconds: 47, rowsPerSecond: 100_000 },
      baseline: { seconds: 18.8, rowsPerSecond: 250_000 },
      ratio: 0.4,
    });
  });
});
