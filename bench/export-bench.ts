// The export benchmark: a generated table in the embedded PostgreSQL, exported by Tally to the S3 stand-in
// and, as the baseline, copied through the same codec and level to nowhere. Each measurement runs in a child
// process of its own so that its peak RSS is its own.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createCompressor } from '../lambdas/adapters/compression';
import { postgresSchema, s3Schema } from '../lambdas/config';
import type { KeyRange } from '../lambdas/domain/chunks';
import type { Compression } from '../lambdas/domain/compression';
import type { StackInfo } from '../local/stack';

export const BENCH_TABLE = 'bench_orders';
export const MEASUREMENTS = ['baseline', 'export'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

/** What one child process measured. Throughputs are computed from raw CSV bytes. */
export interface BenchRun {
  readonly kind: Measurement;
  readonly rows: number;
  readonly rawBytes: number;
  readonly compressedBytes: number;
  readonly files: number;
  readonly seconds: number;
  /** When the measured work began and ended (epoch ms), to tell how far runs in parallel overlapped. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** CPU time of the measuring process (user + system) over the whole run, less sensitive to other load. */
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
}

/** Everything a child needs: where the servers are and what to measure. */
export interface BenchSpec {
  readonly kind: Measurement;
  readonly stack: StackInfo;
  readonly compression: Compression;
  /** Export only this range of the key, as one chunk of a historical load does; the whole table if absent. */
  readonly range?: KeyRange;
}

/**
 * (Re)creates the benchmark table with `rows` rows, generated inside PostgreSQL: an orders-like table of
 * nine columns (bigint, integer, text, numeric, boolean, date, jsonb, timestamptz), about 125 bytes of CSV
 * a row.
 */
export async function createBenchTable(pgUrl: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${BENCH_TABLE}`);
    await client.query(
      `CREATE TABLE ${BENCH_TABLE} AS
       SELECT i::bigint AS id,
              (1 + (i * 7919) % 100000)::integer AS customer_id,
              'ORD-' || lpad(i::text, 10, '0') AS order_number,
              (ARRAY['pending','paid','shipped','delivered','cancelled'])[1 + i % 5] AS status,
              round(((i * 104729) % 1000000) / 100.0 + 0.99, 2)::numeric(12,2) AS total_amount,
              (i % 7 = 0) AS is_gift,
              (date '2024-01-01' + (i % 730)::integer) AS ordered_on,
              jsonb_build_object('city', (ARRAY['Amsterdam','Berlin','Lyon','Austin'])[1 + i % 4],
                                 'zip', lpad(((i * 31) % 99999)::text, 5, '0')) AS shipping,
              timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => i * 3) AS updated_at
       FROM generate_series(1, $1::bigint) AS g(i)`,
      [rows],
    );
    await client.query(`ALTER TABLE ${BENCH_TABLE} ADD PRIMARY KEY (id)`);
    await client.query(`VACUUM ANALYZE ${BENCH_TABLE}`);
  } finally {
    await client.end();
  }
}

/** Runs inside the child: measures one export (Tally or baseline) and reports it with its own peak RSS. */
export async function measure(spec: BenchSpec): Promise<BenchRun> {
  // Loaded before measuring, so that module loading counts for neither; the baseline needs none of it.
  const adapters = spec.kind === 'export' ? await loadAdapters() : null;
  const before = process.resourceUsage();
  const result = adapters ? await measureExport(spec, adapters) : await measureBaseline(spec);
  const after = process.resourceUsage();
  const cpuMicros = after.userCPUTime + after.systemCPUTime - (before.userCPUTime + before.systemCPUTime);
  return { ...result, kind: spec.kind, cpuSeconds: cpuMicros / 1e6, maxRssBytes: after.maxRSS * 1024 };
}

async function loadAdapters() {
  const [{ PostgresSource }, { S3Stage }] = await Promise.all([
    import('../lambdas/adapters/postgres'),
    import('../lambdas/adapters/s3'),
  ]);
  return { PostgresSource, S3Stage };
}

async function measureExport(
  spec: BenchSpec,
  { PostgresSource, S3Stage }: Awaited<ReturnType<typeof loadAdapters>>,
): Promise<Omit<BenchRun, 'kind' | 'cpuSeconds' | 'maxRssBytes'>> {
  const { stack, range } = spec;
  const source = new PostgresSource(postgresSchema.parse({ url: stack.postgres.url }));
  const stage = new S3Stage(s3Schema.parse({ ...stack.s3, prefix: 'bench' }));
  try {
    const table = await source.resolve({
      schema: 'public',
      name: BENCH_TABLE,
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    });
    const startedAt = Date.now();
    const started = performance.now();
    const result = await source.export(table, range ? { kind: 'keys', range } : { kind: 'all' }, stage, {
      // Chunks exported at once write apart, as each chunk of a load does.
      keyPrefix: `bench/${BENCH_TABLE}/${range ? `from-${range.from ?? 'start'}` : 'all'}`,
      compression: spec.compression,
    });
    const seconds = (performance.now() - started) / 1000;
    const endedAt = Date.now();
    // Outside the timing: the stand-in keeps objects in memory, and later runs should not pay for them.
    await stage.delete(result.files.map((f) => f.key));
    return {
      rows: result.rows,
      rawBytes: result.rawBytes,
      compressedBytes: result.compressedBytes,
      files: result.files.length,
      seconds,
      startedAt,
      endedAt,
    };
  } finally {
    await source.close();
  }
}

async function measureBaseline(
  spec: BenchSpec,
): Promise<Omit<BenchRun, 'kind' | 'cpuSeconds' | 'maxRssBytes'>> {
  const client = new pg.Client({ connectionString: spec.stack.postgres.url });
  await client.connect();
  try {
    let rawBytes = 0;
    let compressedBytes = 0;
    const startedAt = Date.now();
    const started = performance.now();
    const copy = client.query(copyTo(`COPY ${BENCH_TABLE} TO STDOUT WITH (FORMAT csv, HEADER)`));
    copy.on('data', (chunk: Buffer) => {
      rawBytes += chunk.length;
    });
    await pipeline(
      copy,
      // zlib's own stream defaults (16 KiB chunks), as a plain createGzip({ level }) has them.
      createCompressor(spec.compression, { chunkSize: 16 * 1024, writableHighWaterMark: 16 * 1024 }),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          compressedBytes += chunk.length;
          done();
        },
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      rows: copy.rowCount,
      rawBytes,
      compressedBytes,
      files: 0,
      seconds,
      startedAt,
      endedAt: Date.now(),
    };
  } finally {
    await client.end();
  }
}

const LAUNCHER = fileURLToPath(new URL('../bin/tally.js', import.meta.url));

/** Runs one measurement in a fresh `tally bench-worker` process; the spec travels in its environment. */
export function measureInChild(spec: BenchSpec): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, 'bench-worker'], {
      env: { ...process.env, TALLY_BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the ${spec.kind} measurement failed (exit code ${code})`));
      try {
        resolve(JSON.parse(out) as BenchRun);
      } catch {
        reject(new Error(`the ${spec.kind} measurement printed no result`));
      }
    });
  });
}

/** Rows per second and raw CSV MB/s (10^6 bytes) of a run. */
export function throughput(run: BenchRun): { rowsPerSecond: number; mbPerSecond: number } {
  return { rowsPerSecond: run.rows / run.seconds, mbPerSecond: run.rawBytes / 1e6 / run.seconds };
}
