// `tally bench`: measures Tally's PostgreSQL → S3 export against a raw COPY through gzip, each run in its
// own process, and writes the figures to a JSON file. `bench-worker` is the hidden child side.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { pipelineSchema } from '../../lambdas/config';
import {
  BENCH_TABLE,
  type BenchRun,
  type BenchSpec,
  createBenchTable,
  MEASUREMENTS,
  type Measurement,
  measure,
  measureInChild,
  throughput,
} from '../bench';
import { CliError, EXIT, formatTable, log, positiveInt, withLocalStack } from './common';

/** The bar the export must clear at one million rows. */
export const ACCEPTANCE = { minRatio: 0.8, maxPeakRssBytes: 300 * 1024 * 1024 } as const;

interface BenchOptions {
  rows: number;
  out: string;
  repeat: number;
  gzipLevel: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      "measure Tally's export (rows/s, MB/s, peak RSS) against raw COPY TO STDOUT through the same gzip level",
    )
    .option('--rows <n>', 'rows in the benchmark table', positiveInt, 1_000_000)
    .option('--out <file>', 'where to write the figures as JSON', 'bench-results/export.json')
    .option('--repeat <n>', 'runs of each measurement; the median run counts', positiveInt, 3)
    .option('--gzip-level <n>', 'gzip level of both', gzipLevel, pipelineSchema.parse({}).gzipLevel)
    .action(async (options: BenchOptions) => {
      await bench(options);
    });

  program
    .command('bench-worker', { hidden: true })
    .description('one measurement of `tally bench`, run in its own process')
    .action(async () => {
      const raw = process.env.TALLY_BENCH_SPEC;
      if (raw === undefined) throw new CliError('bench-worker is started by `tally bench`', EXIT.usage);
      const run = await measure(JSON.parse(raw) as BenchSpec);
      process.stdout.write(`${JSON.stringify(run)}\n`);
    });
}

function gzipLevel(value: string): number {
  const n = positiveInt(value);
  if (n > 9) throw new CliError('--gzip-level must be from 1 to 9', EXIT.usage);
  return n;
}

async function bench(options: BenchOptions): Promise<void> {
  const report = await withLocalStack(async (stack) => {
    log(`creating ${options.rows.toLocaleString('en-US')} rows in ${BENCH_TABLE}...`);
    const created = performance.now();
    await createBenchTable(stack.info.postgres.url, options.rows);
    log(`table ready in ${((performance.now() - created) / 1000).toFixed(1)} s`);
    const runs: BenchRun[] = [];
    for (let round = 1; round <= options.repeat; round++) {
      // Alternating the two spreads any drift of the machine's load over both.
      for (const kind of MEASUREMENTS) {
        const run = await measureInChild({ kind, stack: stack.info, gzipLevel: options.gzipLevel });
        log(`  ${kind} ${round}/${options.repeat}: ${describeRun(run)}`);
        if (run.rows !== options.rows) {
          throw new CliError(`the ${kind} measurement read ${run.rows} rows instead of ${options.rows}`);
        }
        runs.push(run);
      }
    }
    return summarize(options, runs);
  });
  console.log(
    formatTable(
      ['measurement', 'rows', 'seconds', 'rows/s', 'MB/s (raw CSV)', 'compressed MB', 'CPU s', 'peak RSS MB'],
      MEASUREMENTS.map((kind) => {
        const r = report.results[kind];
        return [
          kind,
          r.rows,
          r.seconds,
          r.rowsPerSecond,
          r.mbPerSecond,
          r.compressedMb,
          r.cpuSeconds,
          r.peakRssMb,
        ];
      }),
    ),
  );
  const { ratio, exportPeakRssMb } = report;
  console.log(
    `ratio Tally/baseline: ${ratio} (acceptance ≥ ${ACCEPTANCE.minRatio}: ${report.acceptance.ratio ? 'pass' : 'FAIL'}); ` +
      `export peak RSS ${exportPeakRssMb} MB (acceptance < ${mb(ACCEPTANCE.maxPeakRssBytes)} MB: ${report.acceptance.peakRss ? 'pass' : 'FAIL'})`,
  );
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`figures written to ${options.out}`);
}

const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function describeRun(run: BenchRun): string {
  const t = throughput(run);
  return `${run.seconds.toFixed(2)} s (CPU ${run.cpuSeconds.toFixed(2)} s), ${Math.round(t.rowsPerSecond).toLocaleString('en-US')} rows/s, ${t.mbPerSecond.toFixed(1)} MB/s, peak RSS ${mb(run.maxRssBytes)} MB`;
}

/**
 * The median run of each measurement counts for throughput (robust to a busy moment either way on a shared
 * machine); the largest RSS of any run counts for memory.
 */
function summarize(options: BenchOptions, runs: readonly BenchRun[]) {
  const results = {} as Record<
    Measurement,
    {
      rows: number;
      seconds: number;
      rowsPerSecond: number;
      mbPerSecond: number;
      rawMb: number;
      compressedMb: number;
      files: number;
      cpuSeconds: number;
      peakRssMb: number;
    }
  >;
  for (const kind of MEASUREMENTS) {
    const mine = runs.filter((r) => r.kind === kind);
    const median = medianRun(mine);
    const t = throughput(median);
    results[kind] = {
      rows: median.rows,
      seconds: round(median.seconds, 2),
      rowsPerSecond: Math.round(t.rowsPerSecond),
      mbPerSecond: round(t.mbPerSecond, 1),
      rawMb: round(median.rawBytes / 1e6, 1),
      compressedMb: round(median.compressedBytes / 1e6, 1),
      files: median.files,
      cpuSeconds: round(median.cpuSeconds, 2),
      peakRssMb: mb(Math.max(...mine.map((r) => r.maxRssBytes))),
    };
  }
  // Judged on the unrounded medians: a ratio of 0.796 does not pass as 0.8.
  const exactRatio = medianSeconds(runs, 'baseline') / medianSeconds(runs, 'export');
  const ratio = round(exactRatio, 2);
  const exportPeakRssMb = results.export.peakRssMb;
  return {
    measuredAt: new Date().toISOString(),
    rows: options.rows,
    gzipLevel: options.gzipLevel,
    repeat: options.repeat,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMb: mb(totalmem()),
    },
    results,
    ratio,
    exportPeakRssMb,
    acceptance: {
      ratio: exactRatio >= ACCEPTANCE.minRatio,
      peakRss: exportPeakRssMb < mb(ACCEPTANCE.maxPeakRssBytes),
    },
    runs,
  };
}

/** The run of median duration (the lower middle one for an even count). */
function medianRun(runs: readonly BenchRun[]): BenchRun {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)] as BenchRun;
}

function medianSeconds(runs: readonly BenchRun[], kind: Measurement): number {
  return medianRun(runs.filter((r) => r.kind === kind)).seconds;
}
