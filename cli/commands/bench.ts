// `tally bench`: measures Tally's PostgreSQL → S3 export against a raw COPY through the same codec, each run in its
// own process, and an incremental run with a long audit log against one with a short log; writes the
// figures to JSON files. `bench-worker` is the hidden child side of the export measurement.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { AUDIT_HISTORY_ACCEPTANCE, benchAuditHistory } from '../../bench/audit-history-bench';
import { benchChunks, CHUNKS_ACCEPTANCE } from '../../bench/chunks-bench';
import {
  CODEC_CANDIDATES,
  type CodecSpec,
  codecNode,
  dumpCsv,
  measureCodec,
  measureCodecInChild,
} from '../../bench/codec-bench';
import {
  CODEC_BASELINE,
  type CodecRun,
  codecFigures,
  recommendedCompression,
} from '../../bench/codec-report';
import { benchEndToEnd } from '../../bench/end-to-end-bench';
import {
  BENCH_TABLE,
  type BenchRun,
  type BenchSpec,
  createBenchTable,
  MEASUREMENTS,
  measure,
  measureInChild,
} from '../../bench/export-bench';
import { benchReconcile } from '../../bench/reconcile-bench';
import { ACCEPTANCE, type BenchSettings, describeRun, summarize } from '../../bench/report';
import { benchStandinLoad } from '../../bench/standin-load-bench';
import { effectiveCompression } from '../../lambdas/adapters/compression';
import { describeIssues, pipelineSchema } from '../../lambdas/config';
import {
  CODEC_NAMES,
  type Compression,
  DEFAULT_COMPRESSION,
  FALLBACK_COMPRESSION,
} from '../../lambdas/domain/compression';
import { CliError, EXIT, formatTable, log, positiveInt } from '../common';
import { withLocalStack } from '../embedded';

const SUITES = [
  'export',
  'chunks',
  'audit-history',
  'standin-load',
  'codecs',
  'end-to-end',
  'reconcile',
] as const;
type Suite = (typeof SUITES)[number];

type BenchOptions = BenchSettings & {
  out: string;
  suite: Suite[];
  auditEvents: number;
  auditOut: string;
  loadOut: string;
  codecsOut: string;
  endToEndOut: string;
  chunks: number;
  chunksOut: string;
  reconcileOut: string;
};

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      "measure Tally's export (rows/s, MB/s, peak RSS) against raw COPY TO STDOUT through the same codec and level",
    )
    .option('--rows <n>', 'rows in the benchmark table', positiveInt, 1_000_000)
    .option('--out <file>', 'where to write the figures as JSON', 'bench-results/export.json')
    .option('--repeat <n>', 'runs of each measurement; the median run counts', positiveInt, 3)
    .option(
      '--compression <codec[:level]>',
      `codec and level of the export and its baseline: ${CODEC_NAMES.join(' or ')}, e.g. zstd:3`,
      compressionOption,
      effectiveCompression(undefined),
    )
    .option('--suite <list>', `which benchmarks to run, comma-separated: ${SUITES.join(', ')}`, suites, [
      ...SUITES,
    ])
    .option(
      '--audit-events <n>',
      'earlier events added to the audit log (audit-history)',
      positiveInt,
      50_000,
    )
    .option(
      '--audit-out <file>',
      'where to write the audit-history figures',
      'bench-results/audit-history.json',
    )
    .option(
      '--load-out <file>',
      "where to write the Snowflake stand-in's load figures (standin-load: --rows is the demo's orders)",
      'bench-results/standin-load.json',
    )
    .option('--chunks <n>', 'chunks exported at once against one stream (chunks)', positiveInt, 2)
    .option('--chunks-out <file>', 'where to write the chunks figures', 'bench-results/chunks.json')
    .option('--codecs-out <file>', 'where to write the codecs figures', 'bench-results/codecs.json')
    .option(
      '--end-to-end-out <file>',
      'where to write the end-to-end figures (--rows is the demo’s orders)',
      'bench-results/end-to-end.json',
    )
    .option(
      '--reconcile-out <file>',
      'where to write the reconciliation figures (--rows is the demo’s orders)',
      'bench-results/reconcile.json',
    )
    .action(async (options: BenchOptions) => {
      if (options.suite.includes('export')) await bench(options);
      if (options.suite.includes('chunks')) await benchChunked(options);
      if (options.suite.includes('audit-history')) await benchHistory(options);
      if (options.suite.includes('standin-load')) await benchLoad(options);
      if (options.suite.includes('codecs')) await benchCodecs(options);
      if (options.suite.includes('end-to-end')) await benchWhole(options);
      if (options.suite.includes('reconcile')) await benchValues(options);
    });

  program
    .command('bench-codec-worker', { hidden: true })
    .description('one codec measurement of `tally bench`, run in its own process')
    .action(async () => {
      const raw = process.env.TALLY_BENCH_CODEC_SPEC;
      if (raw === undefined) throw new CliError('bench-codec-worker is started by `tally bench`', EXIT.usage);
      const run = await measureCodec(JSON.parse(raw) as CodecSpec);
      process.stdout.write(`${JSON.stringify(run)}\n`);
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

function suites(value: string): Suite[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new CliError(
      `--suite: unknown benchmark ${unknown.join(', ')}; expected ${SUITES.join(', ')}`,
      EXIT.usage,
    );
  }
  return names as Suite[];
}

async function benchHistory(options: BenchOptions): Promise<void> {
  const report = await withLocalStack((stack) =>
    benchAuditHistory(stack.info, { events: options.auditEvents, repeat: options.repeat }, log),
  );
  console.log(
    formatTable(
      ['audit log', 'incremental run, median s'],
      [
        ['own history only', report.smallLogSeconds],
        [`+ ${report.events.toLocaleString('en-US')} earlier events`, report.largeLogSeconds],
      ],
    ),
  );
  console.log(
    `ratio large/small log: ${report.ratio} (acceptance ≤ ${AUDIT_HISTORY_ACCEPTANCE.maxRatio}: ${report.acceptance.ratio ? 'pass' : 'FAIL'})`,
  );
  await mkdir(dirname(options.auditOut), { recursive: true });
  await writeFile(options.auditOut, `${JSON.stringify(report, null, 2)}\n`);
  log(`figures written to ${options.auditOut}`);
}

/** The Snowflake stand-in's load of each demo table (`--rows` orders) against DuckDB's bare read of its files. */
async function benchLoad(options: BenchOptions): Promise<void> {
  const report = await withLocalStack((stack) =>
    benchStandinLoad(
      stack.info,
      { orders: options.rows, repeat: options.repeat, compression: options.compression },
      log,
    ),
  );
  console.log(
    formatTable(
      ['table', 'rows', 'baseline s', 'baseline rows/s', 'load s', 'load rows/s', 'ratio', 'load rows/CPU-s'],
      report.tables.map((t) => [
        t.table,
        t.rows,
        t.baselineSeconds,
        t.baselineRowsPerSecond,
        t.loadSeconds,
        t.loadRowsPerSecond,
        t.ratio,
        t.loadRowsPerCpuSecond,
      ]),
    ),
  );
  console.log(
    `ratio stand-in load/bare read_csv per table above (${codecName(report.compression)}); ${report.bulkFiles} of ${report.filesLoaded} files loaded by the bulk path; load average ${report.loadAverage.before.join(' ')} before, ${report.loadAverage.after.join(' ')} after`,
  );
  await writeFigures(options.loadOut, { measuredAt: new Date().toISOString(), ...report });
}

/** `gzip`, `zstd:3`: a codec and level as `pipeline.compression` takes them, checked by its schema. */
export function compressionOption(value: string): Compression {
  const [codec, level] = value.split(':');
  const parsed = pipelineSchema.safeParse({
    compression: { codec, ...(level === undefined ? {} : { level: Number(level) }) },
  });
  if (!parsed.success) {
    throw new CliError(`--compression ${value}: ${describeIssues(parsed.error, 'pipeline')}`, EXIT.usage);
  }
  return parsed.data.compression as Compression;
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
        const run = await measureInChild({ kind, stack: stack.info, compression: options.compression });
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
  const { ratio, exportPeakRssMb, peakRssRatio } = report;
  console.log(
    `ratio Tally/baseline: ${ratio} (acceptance ≥ ${ACCEPTANCE.minRatio}: ${report.acceptance.ratio ? 'pass' : 'FAIL'}); ` +
      `export peak RSS ${exportPeakRssMb} MB, ${peakRssRatio} times the baseline's (acceptance ≤ ${ACCEPTANCE.maxPeakRssRatio}: ${report.acceptance.peakRss ? 'pass' : 'FAIL'})`,
  );
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`figures written to ${options.out}`);
}

/** The bench table as one stream against `--chunks` key-range chunks exported at once. */
async function benchChunked(options: BenchOptions): Promise<void> {
  const report = await withLocalStack((stack) =>
    benchChunks(
      stack.info,
      {
        rows: options.rows,
        repeat: options.repeat,
        compression: options.compression,
        chunks: options.chunks,
      },
      log,
    ),
  );
  console.log(
    formatTable(
      ['export', 'rows', 'median s', 'CPU s'],
      [
        ['one stream', report.rows, report.streamSeconds, report.streamCpuSeconds],
        [`${report.chunks} chunks at once`, report.rows, report.chunksSeconds, report.chunksCpuSeconds],
      ],
    ),
  );
  console.log(
    `speed-up chunks/stream: ${report.speedup} (acceptance ≥ ${CHUNKS_ACCEPTANCE.minSpeedup}: ${report.acceptance.speedup ? 'pass' : 'FAIL'})`,
  );
  await writeFigures(options.chunksOut, report);
}

const codecName = (c: Compression) => `${c.codec}:${c.level}`;

async function writeFigures(file: string, figures: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
  log(`figures written to ${file}`);
}

/** CPU-seconds per GB and bytes per row of each codec and level, each against gzip 6, in one run. */
async function benchCodecs(options: BenchOptions): Promise<void> {
  const node = codecNode();
  const candidates = CODEC_CANDIDATES.filter((c) => node.zstd || c.codec !== 'zstd');
  if (!node.zstd) {
    log(`zstd: unavailable (Node ${process.version} has none, and the pinned Node 24 is not installed)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-codecs-'));
  try {
    const runs = await withLocalStack(async (stack) => {
      log(`creating ${options.rows.toLocaleString('en-US')} rows in ${BENCH_TABLE}...`);
      await createBenchTable(stack.info.postgres.url, options.rows);
      const file = join(dir, `${BENCH_TABLE}.csv`);
      const rows = await dumpCsv(stack.info.postgres.url, file);
      const all: CodecRun[] = [];
      for (let round = 1; round <= options.repeat; round++) {
        for (const compression of candidates) {
          const run = await measureCodecInChild({ file, rows, compression }, node.execPath);
          log(
            `  ${codecName(compression)} ${round}/${options.repeat} (Node ${run.node}): CPU ${run.cpuSeconds.toFixed(2)} s, ${(run.compressedBytes / 1e6).toFixed(1)} MB`,
          );
          all.push(run);
        }
      }
      return all;
    });
    const figures = codecFigures(runs);
    console.log(
      formatTable(
        [
          'codec',
          'level',
          'CPU s per GB',
          'bytes per row',
          'ratio',
          `CPU vs ${codecName(CODEC_BASELINE)}`,
          `bytes vs ${codecName(CODEC_BASELINE)}`,
        ],
        figures.map((f) => [
          f.codec,
          f.level,
          f.cpuSecondsPerGb,
          f.bytesPerRow,
          f.ratio,
          f.cpuVsBaseline,
          f.bytesVsBaseline,
        ]),
      ),
    );
    const recommended = recommendedCompression(runs);
    console.log(
      `least CPU per GB with no more bytes per row than ${codecName(CODEC_BASELINE)}: ${codecName(recommended)} (the default is ${codecName(DEFAULT_COMPRESSION)} where Node has zstd, else ${codecName(FALLBACK_COMPRESSION)})`,
    );
    await writeFigures(options.codecsOut, {
      measuredAt: new Date().toISOString(),
      rows: options.rows,
      repeat: options.repeat,
      node: runs[0]?.node ?? process.version,
      zstd: node.zstd ? 'measured' : 'unavailable',
      baseline: CODEC_BASELINE,
      figures,
      recommended,
      runs,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The demo's historical load end to end against the bare COPY+compress of its tables. */
async function benchWhole(options: BenchOptions): Promise<void> {
  const report = await withLocalStack((stack) =>
    benchEndToEnd(stack.info, { orders: options.rows, compression: options.compression }, log),
  );
  console.log(
    formatTable(
      ['measurement', 'rows', 'seconds', 'rows/s'],
      [
        ['baseline (COPY + compress)', report.rows, report.baseline.seconds, report.baseline.rowsPerSecond],
        ['historical pipeline', report.rows, report.pipeline.seconds, report.pipeline.rowsPerSecond],
      ],
    ),
  );
  console.log(`ratio pipeline/baseline (rows/s): ${report.ratio} with ${codecName(report.compression)}`);
  await writeFigures(options.endToEndOut, { measuredAt: new Date().toISOString(), ...report });
}

/** A full reconciliation of the demo's orders table, with no difference, against that table's export. */
async function benchValues(options: BenchOptions): Promise<void> {
  const report = await withLocalStack((stack) =>
    benchReconcile(
      stack.info,
      { orders: options.rows, compression: options.compression, repeat: options.repeat },
      log,
    ),
  );
  console.log(
    formatTable(
      ['orders table', 'rows', 'seconds'],
      [
        ['export (PostgreSQL → S3 stand-in)', report.rows, report.exportSeconds],
        ['load (Snowflake stand-in), not in the ratio', report.rows, report.loadSeconds],
        ['full reconciliation, no difference', report.rows, report.reconcileSeconds],
        ['  of which PostgreSQL’s statements', report.rows, report.postgresSeconds],
        ['  of which the Snowflake stand-in’s', report.rows, report.snowflakeSeconds],
      ],
    ),
  );
  console.log(
    `ratio reconciliation/export (seconds): ${report.ratio}; ${report.checksumsCompared} segment checksums compared over ${report.columns.length} columns${report.notCompared.length > 0 ? ` (not compared: ${report.notCompared.join(', ')})` : ''}; load average ${report.loadAverage.join(', ')}`,
  );
  await writeFigures(options.reconcileOut, { measuredAt: new Date().toISOString(), ...report });
}
