// The Snowflake stand-in's COPY at volume: one gzip CSV file of generated orders in Tally's file format, loaded
// by COPY INTO from the S3 stand-in, against DuckDB's bare read of the same file in the same run (the floor any
// load through DuckDB stands on).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { bulkLoaded } from '../local/snowflake/copy/plain-load';
import { createEngine } from '../local/snowflake/engine';
import type { SessionState } from '../local/snowflake/engine-types';
import type { StackInfo } from '../local/stack';

/** Tally's file format, as the Snowflake adapter creates it. */
export const TALLY_CSV =
  "CREATE OR REPLACE FILE FORMAT TALLY_CSV TYPE = CSV COMPRESSION = GZIP FIELD_DELIMITER = ',' SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = NONE ESCAPE_UNENCLOSED_FIELD = NONE EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE ENCODING = 'UTF8' REPLACE_INVALID_CHARACTERS = FALSE";

/** The bench table's columns with the Snowflake types Tally maps them to (lambdas/domain/type-mapping.ts). */
const COLUMNS = [
  ['ID', 'NUMBER(38,0) NOT NULL'],
  ['CUSTOMER_ID', 'NUMBER(38,0) NOT NULL'],
  ['ORDER_NUMBER', 'VARCHAR(134217728) NOT NULL'],
  ['STATUS', 'VARCHAR(134217728) NOT NULL'],
  ['TOTAL_AMOUNT', 'NUMBER(12,2) NOT NULL'],
  ['IS_GIFT', 'BOOLEAN NOT NULL'],
  ['ORDERED_ON', 'DATE NOT NULL'],
  ['SHIPPING', 'VARIANT NOT NULL'],
  ['UPDATED_AT', 'TIMESTAMP_TZ(6) NOT NULL'],
] as const;

const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
const CITIES = ['Amsterdam', 'Berlin', 'Lyon', 'Austin'];

/** The CSV PostgreSQL writes for `bench_orders` (bench/export-bench.ts), generated the same way. */
export function benchOrdersCsv(rows: number): string {
  const lines = [COLUMNS.map(([name]) => name.toLowerCase()).join(',')];
  const day = Date.UTC(2024, 0, 1);
  const start = Date.UTC(2025, 0, 1);
  for (let i = 1; i <= rows; i++) {
    const amount = (((i * 104729) % 1_000_000) / 100 + 0.99).toFixed(2);
    const ordered = new Date(day + (i % 730) * 86_400_000).toISOString().slice(0, 10);
    const zip = String((i * 31) % 99999).padStart(5, '0');
    const updated = new Date(start + i * 3000).toISOString().replace('T', ' ').replace('.000Z', '+00');
    lines.push(
      `${i},${1 + ((i * 7919) % 100000)},ORD-${String(i).padStart(10, '0')},${STATUSES[i % 5]},${amount},${i % 7 === 0 ? 't' : 'f'},${ordered},"{""zip"": ""${zip}"", ""city"": ""${CITIES[i % 4]}""}",${updated}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface StandinLoadReport {
  readonly rows: number;
  readonly compressedBytes: number;
  readonly repeat: number;
  /** Median seconds of DuckDB's bare read_csv of the file (every column VARCHAR, a count). */
  readonly baselineSeconds: number;
  /** Median seconds of the stand-in's COPY INTO of the file into a fresh table. */
  readonly loadSeconds: number;
  readonly baselineRowsPerSecond: number;
  readonly loadRowsPerSecond: number;
  /** load rows/s over baseline rows/s. */
  readonly ratio: number;
  /** How many of the COPYs the bulk path loaded (the rest went record by record). */
  readonly bulkLoads: number;
  readonly runs: readonly { readonly kind: 'baseline' | 'load'; readonly seconds: number }[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export async function benchStandinLoad(
  stack: StackInfo,
  options: { rows: number; repeat: number },
  log: (line: string) => void,
): Promise<StandinLoadReport> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-load-'));
  const s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
  const engine = await createEngine({
    file: join(dir, 'bench.duckdb'),
    s3: stack.s3,
    defaultDatabase: 'TALLY',
    defaultSchema: 'PUBLIC',
    defaultWarehouse: 'WH',
  });
  const duck = await DuckDBInstance.create(':memory:');
  const bare = await duck.connect();
  try {
    log(`generating ${options.rows.toLocaleString('en-US')} rows of gzip CSV...`);
    const body = gzipSync(benchOrdersCsv(options.rows), { level: 6 });
    const local = join(dir, 'orders.csv.gz');
    await writeFile(local, body);
    const prefix = `bench-load-${Date.now()}/`;
    await s3.send(
      new PutObjectCommand({ Bucket: stack.s3.bucket, Key: `${prefix}orders.csv.gz`, Body: body }),
    );
    const session: SessionState = {
      id: 'bench',
      user: 'BENCH',
      role: 'SYSADMIN',
      database: 'TALLY',
      schema: 'PUBLIC',
      warehouse: 'WH',
      transaction: null,
    };
    const admin = { ...session, id: 'bench-admin', role: 'ACCOUNTADMIN' };
    const run = (sql: string) => engine.execute(sql, [], session);
    await engine.execute(
      "CREATE STORAGE INTEGRATION BENCH_INT TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3' ENABLED = TRUE STORAGE_ALLOWED_LOCATIONS = ('s3://x/')",
      [],
      admin,
    );
    await engine.execute('GRANT USAGE ON INTEGRATION BENCH_INT TO ROLE SYSADMIN', [], admin);
    await run(TALLY_CSV);
    await run(
      `CREATE STAGE BENCH_STAGE URL = 's3://${stack.s3.bucket}/${prefix}' STORAGE_INTEGRATION = BENCH_INT FILE_FORMAT = (FORMAT_NAME = 'TALLY_CSV')`,
    );
    const columns = COLUMNS.map((_c, i) => `'c${i}': 'VARCHAR'`).join(', ');
    const baselineSql = `SELECT count(*) FROM read_csv('${local}', auto_detect = false, header = true, delim = ',', quote = '"', escape = '"', new_line = '\\n', nullstr = '', allow_quoted_nulls = false, columns = {${columns}})`;
    const runs: { kind: 'baseline' | 'load'; seconds: number }[] = [];
    const bulkBefore = bulkLoaded.files;
    for (let round = 1; round <= options.repeat; round++) {
      // Alternating the two spreads any drift of the machine's load over both.
      let t = performance.now();
      const counted = Number((await bare.runAndReadAll(baselineSql)).getRows()[0]?.[0]);
      runs.push({ kind: 'baseline', seconds: (performance.now() - t) / 1000 });
      if (counted !== options.rows) throw new Error(`the baseline read ${counted} rows of ${options.rows}`);
      await run(
        `CREATE OR REPLACE TABLE BENCH_ORDERS (${COLUMNS.map(([n, ty]) => `${n} ${ty}`).join(', ')})`,
      );
      t = performance.now();
      const copy = await run('COPY INTO BENCH_ORDERS FROM @BENCH_STAGE');
      runs.push({ kind: 'load', seconds: (performance.now() - t) / 1000 });
      const loaded = Number(copy.rows[0]?.[3]);
      if (copy.rows[0]?.[1] !== 'LOADED' || loaded !== options.rows) {
        throw new Error(`the stand-in's COPY answered ${JSON.stringify(copy.rows[0])}`);
      }
      const last = runs.slice(-2);
      log(
        `  round ${round}/${options.repeat}: baseline ${last[0]?.seconds.toFixed(2)} s, COPY ${last[1]?.seconds.toFixed(2)} s`,
      );
    }
    const baselineSeconds = median(runs.filter((r) => r.kind === 'baseline').map((r) => r.seconds));
    const loadSeconds = median(runs.filter((r) => r.kind === 'load').map((r) => r.seconds));
    return {
      rows: options.rows,
      compressedBytes: body.length,
      repeat: options.repeat,
      baselineSeconds: Number(baselineSeconds.toFixed(3)),
      loadSeconds: Number(loadSeconds.toFixed(3)),
      baselineRowsPerSecond: Math.round(options.rows / baselineSeconds),
      loadRowsPerSecond: Math.round(options.rows / loadSeconds),
      ratio: Number((baselineSeconds / loadSeconds).toFixed(3)),
      bulkLoads: bulkLoaded.files - bulkBefore,
      runs,
    };
  } finally {
    bare.closeSync();
    duck.closeSync();
    await engine.close();
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
