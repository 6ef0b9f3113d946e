// COPY INTO through the stand-in's engine, reading staged files from the real S3 stand-in.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createEngine } from '../../../local/snowflake/engine';
import type { Engine, QueryResult, SessionState } from '../../../local/snowflake/engine-types';

const stack = inject('stack');
let dir: string;
let engine: Engine;
let s3: S3Client;
let prefix: string;
let n = 0;

const session: SessionState = {
  id: 'copy',
  user: 'LOADER',
  role: 'SYSADMIN',
  database: 'TALLY',
  schema: 'PUBLIC',
  warehouse: 'WH',
  transaction: null,
};

const run = (sql: string): Promise<QueryResult> => engine.execute(sql, [], session);
const asAdmin = (sql: string): Promise<QueryResult> =>
  engine.execute(sql, [], { ...session, id: 'admin', role: 'ACCOUNTADMIN' });

async function put(key: string, body: string, gzip = true): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: stack.s3.bucket,
      Key: `${prefix}${key}`,
      Body: gzip ? gzipSync(body) : body,
    }),
  );
}

function byName(r: QueryResult): Record<string, string | null>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] ?? null])));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sf-copy-test-'));
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
  engine = await createEngine({
    file: path.join(dir, 'sf.duckdb'),
    s3: stack.s3,
    defaultDatabase: 'TALLY',
    defaultSchema: 'PUBLIC',
    defaultWarehouse: 'WH',
  });
  await asAdmin(
    "create storage integration s3_int type = external_stage storage_provider = 'S3' enabled = true storage_allowed_locations = ('s3://x/')",
  );
  await asAdmin('grant usage on integration s3_int to role sysadmin');
  await run(
    "create file format csv_gz type = csv compression = gzip field_optionally_enclosed_by = '\"' escape_unenclosed_field = none empty_field_as_null = true null_if = ('\\\\N') skip_header = 1",
  );
});

afterAll(async () => {
  await engine.close();
  s3.destroy();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  n++;
  prefix = `copy-test-${Date.now()}-${n}/`;
  await run(
    `create or replace stage st url = 's3://${stack.s3.bucket}/${prefix}' storage_integration = s3_int file_format = (format_name = csv_gz)`,
  );
});

describe('COPY INTO from an S3 stage', () => {
  it('converts each type from the text forms Snowflake documents', async () => {
    await run(`create or replace table all_types (id number(38,0), txt varchar, amount number(38,6), f float, ok boolean,
      d date, t time, ts timestamp_ntz, tstz timestamp_tz, doc variant, raw binary, tags varchar)`);
    const csv = [
      'id,txt,amount,f,ok,d,t,ts,tstz,doc,raw,tags',
      '1,"",12.345678,NaN,t,2024-02-29,12:34:56.123456,2024-01-01 00:00:00.123456,2024-01-01 00:00:00.123456+00,"{""a"": [1, 2]}",0aff,"{1,2}"',
      '2,,-1,inf,f,1970-01-01,00:00:00,1969-12-31 23:59:59.5,2024-06-01 12:00:00+00,,,',
      '3,"line\nbreak, ""quoted""",0,-inf,t,2000-01-01,23:59:59,2000-01-01 00:00:00,2000-01-01 00:00:00+00,\\N,"",{}',
    ].join('\n');
    await put('all/part-0.csv.gz', `${csv}\n`);
    const copy = await run('copy into all_types from @st/all/ on_error = abort_statement');
    expect(copy.columns.map((c) => c.name)).toEqual([
      'file',
      'status',
      'rows_parsed',
      'rows_loaded',
      'error_limit',
      'errors_seen',
      'first_error',
      'first_error_line',
      'first_error_character',
      'first_error_column_name',
    ]);
    expect(byName(copy)[0]).toMatchObject({
      file: `s3://${stack.s3.bucket}/${prefix}all/part-0.csv.gz`,
      status: 'LOADED',
      rows_parsed: '3',
      rows_loaded: '3',
      errors_seen: '0',
    });
    const r = await run('select * from all_types order by id');
    expect(r.rows).toEqual([
      [
        '1',
        '',
        '12.345678',
        'NaN',
        'TRUE',
        '19782',
        '45296.123456000',
        '1704067200.123456000',
        '1704067200.123456000 1440',
        '{"a":[1,2]}',
        '0AFF',
        '{1,2}',
      ],
      [
        '2',
        null,
        '-1.000000',
        'inf',
        'FALSE',
        '0',
        '0.000000000',
        '-0.500000000',
        '1717243200.000000000 1440',
        null,
        null,
        null,
      ],
      [
        '3',
        'line\nbreak, "quoted"',
        '0.000000',
        '-inf',
        'TRUE',
        '10957',
        '86399.000000000',
        '946684800.000000000',
        '946684800.000000000 1440',
        null,
        '',
        '{}',
      ],
    ]);
  });

  it('skips unchanged files already loaded unless FORCE = TRUE, and forgets them when the table is replaced', async () => {
    await run('create or replace table h (id int, name varchar)');
    await put('h/a.csv.gz', 'id,name\n1,a\n2,b\n');
    await put('h/b.csv.gz', 'id,name\n3,c\n');
    const first = byName(await run("copy into h from @st/h files = ('a.csv.gz', 'b.csv.gz')"));
    expect(first.map((r) => r.status)).toEqual(['LOADED', 'LOADED']);
    // Files loaded before are left out of the result; with none left, COPY says so in one status row.
    const again = await run("copy into h from @st/h files = ('a.csv.gz', 'b.csv.gz')");
    expect(again.rows).toEqual([['Copy executed with 0 files processed.']]);
    await put('h/c.csv.gz', 'id,name\n4,d\n');
    const mixed = byName(await run('copy into h from @st/h'));
    expect(mixed.map((r) => r.file?.split('/').pop())).toEqual(['c.csv.gz']);
    expect((await run('select count(*) from h')).rows).toEqual([['4']]);
    const forced = byName(await run("copy into h from @st/h files = ('a.csv.gz') force = true"));
    expect(forced.map((r) => r.status)).toEqual(['LOADED']);
    expect((await run('select count(*) from h')).rows).toEqual([['6']]);
    await run('create or replace table h (id int, name varchar)');
    const fresh = byName(await run('copy into h from @st/h'));
    expect(fresh.map((r) => r.status)).toEqual(['LOADED', 'LOADED', 'LOADED']);
  });

  it('remembers loaded files across a restart of the engine', async () => {
    await run('create or replace table rs (id int)');
    await put('rs/a.csv.gz', 'id\n1\n');
    expect(byName(await run('copy into rs from @st/rs')).map((r) => r.status)).toEqual(['LOADED']);
    await engine.close();
    engine = await createEngine({
      file: path.join(dir, 'sf.duckdb'),
      s3: stack.s3,
      defaultDatabase: 'TALLY',
      defaultSchema: 'PUBLIC',
      defaultWarehouse: 'WH',
    });
    expect((await run('copy into rs from @st/rs')).rows).toEqual([['Copy executed with 0 files processed.']]);
    expect((await run('select count(*) from rs')).rows).toEqual([['1']]);
  });

  it('loads a changed file again', async () => {
    await run('create or replace table ch (id int)');
    await put('ch/a.csv.gz', 'id\n1\n');
    await run('copy into ch from @st/ch');
    await put('ch/a.csv.gz', 'id\n1\n2\n');
    expect(byName(await run('copy into ch from @st/ch')).map((r) => r.status)).toEqual(['LOADED']);
    expect((await run('select count(*) from ch')).rows).toEqual([['3']]);
  });

  it('aborts the whole COPY on a bad value with ABORT_STATEMENT and loads nothing', async () => {
    await run('create or replace table ab (id number(10,0), name varchar)');
    await put('ab/1-good.csv.gz', 'id,name\n1,a\n');
    await put('ab/2-bad.csv.gz', 'id,name\n2,b\nnot-a-number,c\n');
    await expect(run('copy into ab from @st/ab on_error = abort_statement')).rejects.toMatchObject({
      code: '100038',
      sqlState: '22018',
      message: expect.stringMatching(/^Numeric value 'not-a-number' is not recognized/),
    });
    expect((await run('select count(*) from ab')).rows).toEqual([['0']]);
    // Nothing was recorded as loaded either: fixing the file loads both.
    await put('ab/2-bad.csv.gz', 'id,name\n2,b\n3,c\n');
    const ok = byName(await run('copy into ab from @st/ab'));
    expect(ok.map((r) => r.status)).toEqual(['LOADED', 'LOADED']);
  });

  it('reports partial loads with CONTINUE and failed files with SKIP_FILE', async () => {
    await run('create or replace table pc (id number(10,0), d date)');
    await put('pc/x.csv.gz', 'id,d\n1,2024-01-01\n2,not-a-date\n3,2024-01-03\n');
    const cont = byName(await run('copy into pc from @st/pc on_error = continue'))[0];
    expect(cont).toMatchObject({
      status: 'PARTIALLY_LOADED',
      rows_parsed: '3',
      rows_loaded: '2',
      errors_seen: '1',
      first_error: "Date 'not-a-date' is not recognized",
      first_error_line: '3',
      first_error_column_name: '"PC"["D":2]',
    });
    await run('create or replace table pc (id number(10,0), d date)');
    const skip = byName(await run('copy into pc from @st/pc on_error = skip_file'))[0];
    expect(skip).toMatchObject({
      status: 'LOAD_FAILED',
      rows_parsed: '3',
      rows_loaded: '0',
      errors_seen: '1',
    });
    expect((await run('select count(*) from pc')).rows).toEqual([['0']]);
  });

  it('selects files by PATTERN and says when nothing matched', async () => {
    await run('create or replace table pt (id int)');
    await put('p/part-1.csv.gz', 'id\n1\n');
    await put('p/part-2.csv.gz', 'id\n2\n');
    await put('p/other.txt', 'id\n3\n', false);
    const r = byName(await run("copy into pt from @st/p pattern = '.*part-[0-9]+[.]csv[.]gz'"));
    expect(r.map((x) => x.file?.split('/').pop())).toEqual(['part-1.csv.gz', 'part-2.csv.gz']);
    const none = await run("copy into pt from @st/p pattern = '.*nothing.*'");
    expect(none.columns.map((c) => c.name)).toEqual(['status']);
    expect(none.rows).toEqual([['Copy executed with 0 files processed.']]);
  });

  it('matches columns by header name with PARSE_HEADER and an inline format', async () => {
    await run('create or replace table mb (id int, name varchar, extra varchar)');
    await put('mb/a.csv', 'NAME,Id\nx,1\n', false);
    // A stage without a FILE_FORMAT of its own: how a COPY's format combines with a stage's is not documented.
    await run(
      `create or replace stage plain url = 's3://${stack.s3.bucket}/${prefix}' storage_integration = s3_int`,
    );
    const r = byName(
      await run(
        "copy into mb from @plain/mb file_format = (type = csv parse_header = true field_optionally_enclosed_by = '\"' compression = auto) match_by_column_name = case_insensitive",
      ),
    );
    expect(r[0]?.status).toBe('LOADED');
    expect((await run('select id, name, extra from mb')).rows).toEqual([['1', 'x', null]]);
  });

  it('reports a missing table and a missing stage with 002003', async () => {
    await expect(run('copy into nope from @st')).rejects.toMatchObject({ code: '002003' });
    await run('create or replace table ms (id int)');
    await expect(run('copy into ms from @nostage')).rejects.toMatchObject({ code: '002003' });
  });
});
