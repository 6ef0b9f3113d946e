// What the conformance tests share: a Snowflake stand-in engine of their own on the stack's S3 stand-in (so that
// account settings and grants they make reach no other test), staged files, and COPY of one file into a table.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { inject, it } from 'vitest';
import { createEngine } from '../../local/snowflake/engine';
import type { Engine, QueryResult, SessionState } from '../../local/snowflake/engine-types';
import type { ParameterValue } from '../../local/snowflake/parameters';
import { runSessionStatement } from '../../local/snowflake/session-statements';

export interface Harness {
  readonly engine: Engine;
  readonly bucket: string;
  /** Where this harness's files are staged; the stage `ST` (no file format) points here. */
  readonly prefix: string;
  /** A session of its own, in TALLY.PUBLIC on warehouse WH, as `role`. */
  session(role?: string): SessionState;
  /** Runs a statement; ALTER SESSION is applied to the session as the server does. */
  run(sql: string, session?: SessionState): Promise<QueryResult>;
  put(key: string, body: string | Buffer, options?: { gzip?: boolean }): Promise<void>;
  close(): Promise<void>;
}

let sessions = 0;

/** One test per row, named in full: it.each shortens the values it puts in a name, the documentation URLs too. */
export function eachCase<T>(
  rows: readonly T[],
  name: (row: T) => string,
  test: (row: T) => Promise<void>,
): void {
  for (const row of rows) it(name(row), () => test(row));
}

export async function startHarness(options: { detachedIdleMs?: number } = {}): Promise<Harness> {
  const stack = inject('stack');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tally-conformance-'));
  const engine = await createEngine({
    file: path.join(dir, 'sf.duckdb'),
    s3: stack.s3,
    defaultDatabase: 'TALLY',
    defaultSchema: 'PUBLIC',
    defaultWarehouse: 'WH',
    ...options,
  });
  const s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
  const prefix = `conformance-${process.pid}-${Date.now()}/`;
  const session = (role = 'SYSADMIN'): SessionState => ({
    id: `conformance-${++sessions}`,
    user: 'CONFORMANCE',
    role,
    database: 'TALLY',
    schema: 'PUBLIC',
    warehouse: 'WH',
    transaction: null,
    parameters: {} as Record<string, ParameterValue>,
  });
  const main = session();
  const run = async (sql: string, s: SessionState = main): Promise<QueryResult> =>
    runSessionStatement(s.parameters ?? {}, sql) ?? engine.execute(sql, [], s);
  const admin = session('ACCOUNTADMIN');
  await run(
    `create storage integration s3_int type = external_stage storage_provider = 'S3' enabled = true storage_allowed_locations = ('s3://${stack.s3.bucket}/')`,
    admin,
  );
  await run('grant usage on integration s3_int to role sysadmin', admin);
  await run(`create stage st url = 's3://${stack.s3.bucket}/${prefix}' storage_integration = s3_int`);
  return {
    engine,
    bucket: stack.s3.bucket,
    prefix,
    session,
    run,
    async put(key, body, { gzip = false } = {}) {
      await s3.send(
        new PutObjectCommand({
          Bucket: stack.s3.bucket,
          Key: `${prefix}${key}`,
          Body: gzip ? gzipSync(body) : body,
        }),
      );
    },
    async close() {
      await engine.close();
      s3.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A result's rows as objects keyed by column name. */
export function byName(r: QueryResult): Record<string, string | null>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] ?? null])));
}

let files = 0;

export interface CopyCase {
  /** Column definitions of the target table, e.g. `id number, v varchar`. */
  readonly columns: string;
  /** The file format options of the COPY, e.g. `type = csv skip_header = 1`. */
  readonly format?: string;
  /** The staged file's content. */
  readonly file: string | Buffer;
  /** Copy options after the file format. */
  readonly options?: string;
}

/**
 * Stages one file, creates a table for it and COPYs it in; resolves to the table's rows in load order
 * (values in wire encoding) or rejects with the COPY's error.
 */
export async function copyFile(
  h: Harness,
  c: CopyCase,
  session?: SessionState,
): Promise<(string | null)[][]> {
  const n = ++files;
  const table = `LOADED_${n}`;
  await h.run(`create or replace table ${table} (${c.columns})`, session);
  await h.put(`copy/${n}.csv`, c.file);
  await h.run(
    `copy into ${table} from @st/copy/ files = ('${n}.csv') file_format = (${c.format ?? 'type = csv'}) ${c.options ?? ''}`,
    session,
  );
  return (await h.run(`select * from ${table}`, session)).rows as (string | null)[][];
}
