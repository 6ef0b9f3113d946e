// The end-to-end benchmark: the demo's historical load (PostgreSQL → S3 stand-in → Snowflake stand-in,
// the synthesized state machine run locally, as `tally run --pipeline historical`) in rows per second,
// against the bare work underneath it: `COPY <table> TO STDOUT` of the same tables through the same codec
// into nothing, one table after the other. The ratio says how much of the bare COPY+compress speed the
// whole transfer keeps (counting, part files, upload, load, verification and audit included).
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createCompressor } from '../lambdas/adapters/compression';
import type { TallyConfig } from '../lambdas/config';
import type { Compression } from '../lambdas/domain/compression';
import { DEMO_TABLES, type DemoCounts, seedDemo } from '../local/demo-data';
import { localConfig } from '../local/local-config';
import { runPipeline } from '../local/runner';
import type { StackInfo } from '../local/stack';
import { round } from './stats';

export interface EndToEndSettings {
  /** Orders in the demo (with one customer per five orders, one to four lines per order, as many events). */
  readonly orders: number;
  readonly compression: Compression;
}

export interface EndToEndReport {
  readonly orders: number;
  readonly rows: number;
  readonly tables: DemoCounts;
  readonly compression: Compression;
  readonly rawBytes: number;
  readonly pipeline: { readonly seconds: number; readonly rowsPerSecond: number };
  readonly baseline: { readonly seconds: number; readonly rowsPerSecond: number };
  /** Pipeline rows/s over baseline rows/s. */
  readonly ratio: number;
}

/** rows/s of the two sides and their ratio, rounded for the report; the ratio from the unrounded times. */
export function endToEndFigures(rows: number, pipelineSeconds: number, baselineSeconds: number) {
  return {
    pipeline: { seconds: round(pipelineSeconds, 2), rowsPerSecond: Math.round(rows / pipelineSeconds) },
    baseline: { seconds: round(baselineSeconds, 2), rowsPerSecond: Math.round(rows / baselineSeconds) },
    ratio: round(baselineSeconds / pipelineSeconds, 2),
  };
}

export async function benchEndToEnd(
  stack: StackInfo,
  settings: EndToEndSettings,
  log: (line: string) => void,
): Promise<EndToEndReport> {
  log(`seeding the demo with ${settings.orders.toLocaleString('en-US')} orders...`);
  const tables = await seedDemo(stack.postgres.url, { rows: settings.orders, seed: 1 });
  const rows = Object.values(tables).reduce((a, b) => a + b, 0);
  log(`  ${rows.toLocaleString('en-US')} rows in ${DEMO_TABLES.length} tables`);

  log('baseline: COPY TO STDOUT of each table through the codec, into nothing...');
  const { seconds: baselineSeconds, rawBytes } = await bareCopy(stack.postgres.url, settings.compression);
  log(`  ${baselineSeconds.toFixed(1)} s`);

  log('the historical pipeline, PostgreSQL → S3 → Snowflake stand-in...');
  const config: TallyConfig = localConfig(stack, DEMO_TABLES, {
    lagSeconds: 0,
    compression: settings.compression,
  });
  const started = performance.now();
  const verdict = await runPipeline({ config, input: { pipeline: 'historical' }, printAlert: () => {} });
  const pipelineSeconds = (performance.now() - started) / 1000;
  if (verdict.status !== 'succeeded') {
    const failed = verdict.tables
      .filter((t) => t.status !== 'succeeded')
      .map(
        (t) =>
          `${t.table} ${t.status}${t.failure ? ` at ${t.failure.stage}: ${t.failure.error}: ${t.failure.message}` : ''}`,
      );
    throw new Error(
      `the historical run of the end-to-end benchmark failed: ${verdict.error?.message ?? ''} ${failed.join('; ')}`,
    );
  }
  log(`  ${pipelineSeconds.toFixed(1)} s`);
  return {
    orders: settings.orders,
    rows,
    tables,
    compression: settings.compression,
    rawBytes,
    ...endToEndFigures(rows, pipelineSeconds, baselineSeconds),
  };
}

/** The bare work: each demo table COPYed out as CSV through the codec into nothing, one after the other. */
async function bareCopy(pgUrl: string, compression: Compression) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  let rawBytes = 0;
  try {
    const started = performance.now();
    for (const table of DEMO_TABLES) {
      const copy = client.query(
        copyTo(`COPY ${table.schema ?? 'public'}.${table.name} TO STDOUT WITH (FORMAT csv, HEADER)`),
      );
      copy.on('data', (chunk: Buffer) => {
        rawBytes += chunk.length;
      });
      await pipeline(
        copy,
        createCompressor(compression, { chunkSize: 16 * 1024, writableHighWaterMark: 16 * 1024 }),
        new Writable({
          write(_chunk, _encoding, done) {
            done();
          },
        }),
      );
    }
    return { seconds: (performance.now() - started) / 1000, rawBytes };
  } finally {
    await client.end();
  }
}
