import { describe, expect, it } from 'vitest';
import type { BenchRun } from '../../../bench/export-bench';
import { ACCEPTANCE, summarize } from '../../../bench/report';

const MB = 1024 * 1024;
const settings = { rows: 1_000_000, repeat: 1, compression: { codec: 'gzip', level: 6 } } as const;

function run(kind: BenchRun['kind'], seconds: number, rssMb: number): BenchRun {
  return {
    kind,
    rows: 1_000_000,
    rawBytes: 125e6,
    compressedBytes: 23e6,
    files: kind === 'export' ? 1 : 0,
    seconds,
    startedAt: 0,
    endedAt: seconds * 1000,
    cpuSeconds: seconds,
    maxRssBytes: rssMb * MB,
  };
}

describe('the export benchmark judged against its baseline', () => {
  it('passes an export as fast as the bare pipe whose memory is a constant above it', () => {
    const report = summarize(settings, [run('baseline', 4, 350), run('export', 4.2, 363)]);
    expect(report.peakRssRatio).toBe(1.04);
    expect(report.acceptance).toEqual({ ratio: true, peakRss: true });
  });

  it('fails an export whose peak RSS is more than the bar times the baseline, whatever the Node', () => {
    const report = summarize(settings, [
      run('baseline', 4, 125),
      run('export', 4, 125 * ACCEPTANCE.maxPeakRssRatio + 1),
    ]);
    expect(report.acceptance.peakRss).toBe(false);
    expect(report.acceptance.ratio).toBe(true);
  });

  it('fails an export slower than the bar, judged on the unrounded medians', () => {
    const report = summarize(settings, [run('baseline', 0.796, 125), run('export', 1, 125)]);
    expect(report.ratio).toBe(0.8);
    expect(report.acceptance.ratio).toBe(false);
  });
});
