// One large table exported as one stream against the same table as two key-range chunks exported at once,
// each in a process of its own as each chunk of a historical load runs in a Lambda of its own. The chunks'
// time is the span from the first chunk's start to the last chunk's end, so a chunk that started early
// gains nothing.
import type { KeyRange } from '../lambdas/domain/chunks';
import type { Compression } from '../lambdas/domain/compression';
import type { StackInfo } from '../local/stack';
import { type BenchRun, createBenchTable, measureInChild } from './export-bench';
import { medianBy, round } from './stats';

/** The bar: two chunks on two cores finish at least 1.25 times sooner than one stream. */
export const CHUNKS_ACCEPTANCE = { minSpeedup: 1.25 } as const;

export interface ChunksSettings {
  readonly rows: number;
  readonly repeat: number;
  readonly compression: Compression;
  /** How many chunks run at once. */
  readonly chunks: number;
}

/** One round: the stream's run and the chunks' runs, which must read the same rows between them. */
export interface ChunksRound {
  readonly stream: BenchRun;
  readonly chunks: readonly BenchRun[];
}

/** The wall time of runs made at once: from the first one's start to the last one's end. */
export function spanSeconds(runs: readonly BenchRun[]): number {
  if (runs.length === 0) throw new RangeError('no runs to span');
  const start = Math.min(...runs.map((r) => r.startedAt));
  const end = Math.max(...runs.map((r) => r.endedAt));
  return (end - start) / 1000;
}

const lowerMedian = (values: readonly number[]) => medianBy(values, (v) => v);

/** The medians of both sides and their ratio, judged unrounded; throws when a round lost or added rows. */
export function chunksFigures(settings: ChunksSettings, rounds: readonly ChunksRound[]) {
  if (rounds.length === 0) throw new RangeError('no rounds measured');
  for (const [i, r] of rounds.entries()) {
    const chunked = r.chunks.reduce((sum, c) => sum + c.rows, 0);
    if (chunked !== r.stream.rows) {
      throw new Error(
        `round ${i + 1}: the chunks exported ${chunked} rows between them, the stream ${r.stream.rows}`,
      );
    }
  }
  const streamSeconds = lowerMedian(rounds.map((r) => r.stream.seconds));
  const chunksSeconds = lowerMedian(rounds.map((r) => spanSeconds(r.chunks)));
  const speedup = streamSeconds / chunksSeconds;
  return {
    measuredAt: new Date().toISOString(),
    rows: settings.rows,
    chunks: settings.chunks,
    compression: settings.compression,
    repeat: settings.repeat,
    streamSeconds: round(streamSeconds, 2),
    chunksSeconds: round(chunksSeconds, 2),
    streamCpuSeconds: round(lowerMedian(rounds.map((r) => r.stream.cpuSeconds)), 2),
    chunksCpuSeconds: round(
      lowerMedian(rounds.map((r) => r.chunks.reduce((s, c) => s + c.cpuSeconds, 0))),
      2,
    ),
    speedup: round(speedup, 2),
    acceptance: { speedup: speedup >= CHUNKS_ACCEPTANCE.minSpeedup },
    rounds,
  };
}

export type ChunksReport = ReturnType<typeof chunksFigures>;

/**
 * The bench table's key runs 1..rows without gaps, so equal steps of the key are equal chunks, as planning
 * cuts them from the key's statistics; the first range is open below and the last open above.
 */
export function equalRanges(rows: number, chunks: number): KeyRange[] {
  const ranges: KeyRange[] = [];
  let from: string | null = null;
  for (let i = 1; i < chunks; i++) {
    const to = String(1 + Math.floor((rows * i) / chunks));
    ranges.push({ from, to });
    from = to;
  }
  ranges.push({ from, to: null });
  return ranges;
}

export async function benchChunks(
  stack: StackInfo,
  settings: ChunksSettings,
  log: (line: string) => void,
): Promise<ChunksReport> {
  log(`creating ${settings.rows.toLocaleString('en-US')} rows for the chunks benchmark...`);
  await createBenchTable(stack.postgres.url, settings.rows);
  const ranges = equalRanges(settings.rows, settings.chunks);
  const rounds: ChunksRound[] = [];
  for (let i = 1; i <= settings.repeat; i++) {
    const spec = { kind: 'export', stack, compression: settings.compression } as const;
    const stream = await measureInChild(spec);
    log(`  one stream ${i}/${settings.repeat}: ${stream.seconds.toFixed(2)} s`);
    const chunks = await Promise.all(ranges.map((range) => measureInChild({ ...spec, range })));
    log(`  ${ranges.length} chunks at once ${i}/${settings.repeat}: ${spanSeconds(chunks).toFixed(2)} s`);
    rounds.push({ stream, chunks });
  }
  return chunksFigures(settings, rounds);
}
