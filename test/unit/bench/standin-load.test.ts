// The stand-in load benchmark's arithmetic: each demo table's figures come from its own median runs, rows per
// second from the median seconds (and per CPU-second from the median CPU), the ratio from the unrounded medians.
import { describe, expect, it } from 'vitest';
import { tableFigures } from '../../../bench/standin-load-bench';

const runs = [
  { table: 'orders', kind: 'baseline', seconds: 0.1, cpuSeconds: 0.2 },
  { table: 'orders', kind: 'load', seconds: 0.9, cpuSeconds: 0.8 },
  { table: 'orders', kind: 'baseline', seconds: 0.3, cpuSeconds: 0.2 },
  { table: 'orders', kind: 'load', seconds: 0.4, cpuSeconds: 0.25 },
  { table: 'orders', kind: 'baseline', seconds: 0.2, cpuSeconds: 0.2 },
  { table: 'orders', kind: 'load', seconds: 0.5, cpuSeconds: 0.4 },
  { table: 'events', kind: 'baseline', seconds: 9, cpuSeconds: 9 },
  { table: 'events', kind: 'load', seconds: 9, cpuSeconds: 9 },
] as const;

describe('the stand-in load figures', () => {
  it("takes each table's median runs, only its own, for rows per second and the ratio", () => {
    const figures = tableFigures('orders', { rows: 100_000, files: 1, compressedBytes: 4_000_000 }, runs);
    expect(figures).toEqual({
      table: 'orders',
      rows: 100_000,
      files: 1,
      compressedBytes: 4_000_000,
      baselineSeconds: 0.2,
      loadSeconds: 0.5,
      baselineRowsPerSecond: 500_000,
      loadRowsPerSecond: 200_000,
      ratio: 0.4,
      loadRowsPerCpuSecond: 250_000,
    });
  });

  it('takes the lower middle run of an even number of runs', () => {
    const even = [...runs, { table: 'orders', kind: 'load', seconds: 0.45, cpuSeconds: 0.3 } as const];
    expect(tableFigures('orders', { rows: 90_000, files: 1, compressedBytes: 1 }, even).loadSeconds).toBe(
      0.45,
    );
  });
});
