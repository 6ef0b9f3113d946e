// The Snowflake stand-in's COPY at volume, per demo table: the demo seeded in the embedded PostgreSQL, each table
// exported by Tally's own export to the S3 stand-in, then loaded by Tally's own historical load (replaceWith: the
// DELETE and COPY INTO of its part files in one transaction) into the stand-in, against DuckDB's bare read_csv of
// the same part files in the same run (the floor any load through DuckDB stands on).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { effectiveCompression } from '../lambdas/adapters/compression';
import { PostgresSource } from '../lambdas/adapters/postgres';
import { createS3Client, S3Stage } from '../lambdas/adapters/s3';
import { openSnowflake } from '../lambdas/adapters/snowflake';
import type { Compression } from '../lambdas/domain/compression';
import type { ResolvedTable } from '../lambdas/domain/table';
import { LONGEST_STEP_TIMEOUT_SECONDS } from '../lambdas/steps/registry';
import { DEMO_TABLES, type DemoTable, seedDemo } from '../local/demo-data';
import { localConfig } from '../local/local-config';
import { bulkLoaded } from '../local/snowflake/copy/plain-load';
import { sqlString } from '../local/snowflake/sql-tokens';
import type { StackInfo } from '../local/stack';

export interface StandinLoadSettings {
  /** Orders in the demo (one customer per five orders, one to four lines per order, as many events). */
  readonly orders: number;
  readonly repeat: number;
  readonly compression: Compression;
}

export interface TableLoadFigures {
  readonly table: DemoTable;
  readonly rows: number;
  readonly files: number;
  readonly compressedBytes: number;
  /** Median seconds of DuckDB's bare read_csv of the part files (every column VARCHAR, a count). */
  readonly baselineSeconds: number;
  /** Median seconds of Tally's historical load of the part files into the stand-in. */
  readonly loadSeconds: number;
  readonly baselineRowsPerSecond: number;
  readonly loadRowsPerSecond: number;
  /** load rows/s over baseline rows/s. */
  readonly ratio: number;
  /**
   * Rows per CPU-second of this process (the stand-in, the S3 stand-in and the driver all run in it) in the
   * median load run: unlike wall time, hardly moved by other work on the machine.
   */
  readonly loadRowsPerCpuSecond: number;
}

export interface StandinLoadReport {
  readonly orders: number;
  readonly repeat: number;
  readonly compression: Compression;
  /** The 1, 5 and 15 minute load averages when the run began and when it ended. */
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly tables: readonly TableLoadFigures[];
  /** How many of the COPYs' files the bulk path loaded, of all the files loaded. */
  readonly bulkFiles: number;
  readonly filesLoaded: number;
  readonly runs: readonly {
    readonly table: DemoTable;
    readonly kind: 'baseline' | 'load';
    readonly seconds: number;
    /** User + system CPU of this process during the run, its threads included. */
    readonly cpuSeconds: number;
  }[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
};

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The figures of one table from its runs: medians, rows per second, the ratio from the unrounded medians. */
export function tableFigures(
  table: DemoTable,
  exported: { rows: number; files: number; compressedBytes: number },
  runs: StandinLoadReport['runs'],
): TableLoadFigures {
  const mine = (kind: 'baseline' | 'load') =>
    median(runs.filter((r) => r.table === table && r.kind === kind).map((r) => r.seconds));
  const baselineSeconds = mine('baseline');
  const loadSeconds = mine('load');
  const loadCpu = median(runs.filter((r) => r.table === table && r.kind === 'load').map((r) => r.cpuSeconds));
  return {
    table,
    ...exported,
    baselineSeconds: round(baselineSeconds, 3),
    loadSeconds: round(loadSeconds, 3),
    baselineRowsPerSecond: Math.round(exported.rows / baselineSeconds),
    loadRowsPerSecond: Math.round(exported.rows / loadSeconds),
    ratio: round(baselineSeconds / loadSeconds, 3),
    loadRowsPerCpuSecond: Math.round(exported.rows / loadCpu),
  };
}

/** Wall and CPU seconds (this process's user + system, all its threads) of `work`. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return {
    value,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

/** DuckDB's bare read of part files as Tally writes them: the floor under any load through DuckDB. */
function baselineSql(files: readonly string[], columns: number): string {
  const types = Array.from({ length: columns }, (_c, i) => `'c${i}': 'VARCHAR'`).join(', ');
  return `SELECT count(*) FROM read_csv([${files.map(sqlString).join(', ')}], auto_detect = false, header = true, delim = ',', quote = '"', escape = '"', new_line = '\\n', nullstr = '', allow_quoted_nulls = false, columns = {${types}})`;
}

export async function benchStandinLoad(
  stack: StackInfo,
  settings: StandinLoadSettings,
  log: (line: string) => void,
): Promise<StandinLoadReport> {
  const before = loadavg().map((n) => round(n, 2));
  log(`seeding the demo with ${settings.orders.toLocaleString('en-US')} orders...`);
  await seedDemo(stack.postgres.url, { rows: settings.orders, seed: 1 });
  const config = localConfig(stack, DEMO_TABLES, { lagSeconds: 0, compression: settings.compression });
  const compression = effectiveCompression(config.pipeline.compression);
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-load-'));
  const source = new PostgresSource(config.postgres);
  const stage = new S3Stage(config.s3);
  const s3 = createS3Client(config.s3);
  const snowflake = openSnowflake(config.snowflake, config.s3, {
    keepWarm: false,
    longestStepSeconds: LONGEST_STEP_TIMEOUT_SECONDS,
  });
  const duck = await DuckDBInstance.create(':memory:');
  const bare = await duck.connect();
  try {
    const resolved: ResolvedTable[] = [];
    for (const table of DEMO_TABLES) resolved.push(await source.resolve(table));
    await snowflake.warehouse.bootstrap(resolved, compression.codec);
    const exports: {
      table: DemoTable;
      resolved: ResolvedTable;
      keys: string[];
      local: string[];
      rows: number;
      compressedBytes: number;
    }[] = [];
    for (const table of resolved) {
      const name = table.name as DemoTable;
      const result = await source.export(table, { kind: 'all' }, stage, {
        keyPrefix: `${config.s3.prefix}/bench-load/${name}/${Date.now()}`,
        compression,
      });
      const keys = result.files.map((f) => f.key);
      const local: string[] = [];
      for (const key of keys) {
        const file = join(dir, `${name}-${basename(key)}`);
        const object = await s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: key }));
        await pipeline(object.Body as Readable, createWriteStream(file));
        local.push(file);
      }
      log(
        `  ${name}: ${result.rows.toLocaleString('en-US')} rows exported in ${keys.length} file(s), ${(result.compressedBytes / 1e6).toFixed(1)} MB`,
      );
      exports.push({
        table: name,
        resolved: table,
        keys,
        local,
        rows: result.rows,
        compressedBytes: result.compressedBytes,
      });
    }
    const runs: StandinLoadReport['runs'][number][] = [];
    const bulkBefore = bulkLoaded.files;
    let filesLoaded = 0;
    for (let round = 1; round <= settings.repeat; round++) {
      for (const e of exports) {
        // Alternating the two spreads any drift of the machine's load over both.
        const sql = baselineSql(e.local, e.resolved.columns.length);
        const base = await timed(() => bare.runAndReadAll(sql));
        runs.push({ table: e.table, kind: 'baseline', seconds: base.seconds, cpuSeconds: base.cpuSeconds });
        const counted = Number(base.value.getRows()[0]?.[0]);
        if (counted !== e.rows)
          throw new Error(`the baseline read ${counted} rows of ${e.table}'s ${e.rows}`);
        const load = await timed(() => snowflake.warehouse.replaceWith(e.resolved, e.keys));
        runs.push({ table: e.table, kind: 'load', seconds: load.seconds, cpuSeconds: load.cpuSeconds });
        const loaded = load.value;
        filesLoaded += loaded.files.length;
        if (loaded.rowsLoaded !== e.rows || loaded.files.some((f) => f.status !== 'LOADED')) {
          throw new Error(
            `the stand-in loaded ${loaded.rowsLoaded} of ${e.table}'s ${e.rows} rows: ${JSON.stringify(loaded.files)}`,
          );
        }
        const last = runs.slice(-2);
        log(
          `  round ${round}/${settings.repeat} ${e.table}: baseline ${last[0]?.seconds.toFixed(2)} s, load ${last[1]?.seconds.toFixed(2)} s (CPU ${last[1]?.cpuSeconds.toFixed(2)} s)`,
        );
      }
    }
    return {
      orders: settings.orders,
      repeat: settings.repeat,
      compression,
      loadAverage: { before, after: loadavg().map((n) => round(n, 2)) },
      tables: exports.map((e) =>
        tableFigures(
          e.table,
          { rows: e.rows, files: e.keys.length, compressedBytes: e.compressedBytes },
          runs,
        ),
      ),
      bulkFiles: bulkLoaded.files - bulkBefore,
      filesLoaded,
      runs,
    };
  } finally {
    bare.closeSync();
    duck.closeSync();
    await snowflake.close();
    await source.close();
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
