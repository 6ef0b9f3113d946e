// The arithmetic of the codec benchmark: CPU-seconds per GB of raw CSV and compressed bytes per row of each
// codec and level (the medians of its runs), each against gzip level 6, the former default, and the choice
// of the default they lead to. Pure: unit-tested in test/unit/bench/codec-report.test.ts.
import type { Compression } from '../lambdas/domain/compression';
import { median, round } from './stats';

/** What one child process measured compressing the benchmark table's CSV once. */
export interface CodecRun {
  readonly compression: Compression;
  readonly rows: number;
  readonly rawBytes: number;
  readonly compressedBytes: number;
  /** User + system CPU of the compressing process, zlib's worker threads included. */
  readonly cpuSeconds: number;
  readonly seconds: number;
  readonly node: string;
}

export interface CodecFigures {
  readonly codec: string;
  readonly level: number;
  /** CPU-seconds to compress 10^9 bytes of raw CSV (median run). */
  readonly cpuSecondsPerGb: number;
  readonly bytesPerRow: number;
  /** Raw CSV bytes over compressed bytes. */
  readonly ratio: number;
  /** This codec's CPU per GB over the baseline's: below 1 is cheaper. */
  readonly cpuVsBaseline: number;
  /** This codec's bytes per row over the baseline's: below 1 is smaller. */
  readonly bytesVsBaseline: number;
}

/** What the others are measured against: the former default. */
export const CODEC_BASELINE: Compression = { codec: 'gzip', level: 6 };

const label = (c: Compression) => `${c.codec}:${c.level}`;

interface Exact {
  readonly compression: Compression;
  readonly cpuSecondsPerGb: number;
  readonly bytesPerRow: number;
  readonly ratio: number;
}

/** Medians per codec and level, in the order first measured; the baseline must be among them. */
function exactFigures(runs: readonly CodecRun[]): Exact[] {
  const groups = new Map<string, CodecRun[]>();
  for (const run of runs)
    groups.set(label(run.compression), [...(groups.get(label(run.compression)) ?? []), run]);
  return [...groups.values()].map((group) => {
    const first = group[0] as CodecRun;
    return {
      compression: first.compression,
      cpuSecondsPerGb: median(group.map((r) => r.cpuSeconds / (r.rawBytes / 1e9))),
      bytesPerRow: median(group.map((r) => r.compressedBytes / r.rows)),
      ratio: median(group.map((r) => r.rawBytes / r.compressedBytes)),
    };
  });
}

export function codecFigures(runs: readonly CodecRun[]): CodecFigures[] {
  const exact = exactFigures(runs);
  const base = exact.find((e) => label(e.compression) === label(CODEC_BASELINE));
  if (base === undefined) throw new Error(`the codec benchmark needs its baseline, ${label(CODEC_BASELINE)}`);
  return exact.map((e) => ({
    codec: e.compression.codec,
    level: e.compression.level,
    cpuSecondsPerGb: round(e.cpuSecondsPerGb, 2),
    bytesPerRow: round(e.bytesPerRow, 1),
    ratio: round(e.ratio, 2),
    cpuVsBaseline: round(e.cpuSecondsPerGb / base.cpuSecondsPerGb, 2),
    bytesVsBaseline: round(e.bytesPerRow / base.bytesPerRow, 2),
  }));
}

/**
 * The codec and level the measurement recommends: the least CPU per GB (Lambda bills the export's time,
 * and compression is most of its CPU) among those that write no more bytes per row than the baseline, so
 * that S3 and the load read no more than before. Judged on the unrounded medians.
 */
export function recommendedCompression(runs: readonly CodecRun[]): Compression {
  const exact = exactFigures(runs);
  const base = exact.find((e) => label(e.compression) === label(CODEC_BASELINE));
  if (base === undefined) throw new Error(`the codec benchmark needs its baseline, ${label(CODEC_BASELINE)}`);
  const eligible = exact.filter((e) => e.bytesPerRow <= base.bytesPerRow);
  const best = eligible.reduce((a, b) => (b.cpuSecondsPerGb < a.cpuSecondsPerGb ? b : a), base);
  return best.compression;
}
