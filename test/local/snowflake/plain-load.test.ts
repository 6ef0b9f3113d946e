// COPY's bulk path (copy/plain-load.ts) against the record-by-record reader: for any file, plain or not, gzip or
// zstd (where this Node has zstd), both answer the same COPY rows (or the same error) and leave the same rows in
// the table.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as zlib from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileFormatOptions } from '../../../lambdas/adapters/snowflake/ddl';
import type { CodecName } from '../../../lambdas/domain/compression';
import { bulkLoaded, PlainScan } from '../../../local/snowflake/copy/plain-load';
import { createEngine } from '../../../local/snowflake/engine';
import type { Engine, QueryResult, SessionState } from '../../../local/snowflake/engine-types';

const stack = inject('stack');
let dir: string;
let bulk: Engine;
let reference: Engine;
let s3: S3Client;
const prefix = `plain-load-${Date.now()}/`;

const session: SessionState = {
  id: 'plain',
  user: 'LOADER',
  role: 'SYSADMIN',
  database: 'TALLY',
  schema: 'PUBLIC',
  warehouse: 'WH',
  transaction: null,
};

/** zlib's zstd (Node 22.15 and later), which @types/node of Node 20 does not declare. */
const zstdSync = (zlib as unknown as { zstdCompressSync?: (b: string) => Buffer }).zstdCompressSync;
/** The codecs of Tally's part files this Node can write, each with its compressor. */
const CODECS: Record<string, (text: string) => Buffer> = {
  gzip: (text) => zlib.gzipSync(text),
  ...(zstdSync ? { zstd: (text: string) => zstdSync(text) } : {}),
};

const COLUMNS = [
  ['ID', 'NUMBER(38,0) NOT NULL'],
  ['N', 'NUMBER(12,2)'],
  ['F', 'FLOAT'],
  ['B', 'BOOLEAN'],
  ['D', 'DATE'],
  ['TS', 'TIMESTAMP_TZ(6)'],
  ['NTZ', 'TIMESTAMP_NTZ(3)'],
  ['T', 'TIME'],
  ['S', 'VARCHAR(5)'],
  ['V', 'VARIANT'],
  ['A', 'ARRAY'],
  ['BIN', 'BINARY'],
] as const;

/** Per column, values in the simple forms the bulk path loads itself. */
const SIMPLE: readonly (readonly string[])[] = [
  [],
  ['12.34', '-0.5', '0', '-0', '1.2', ''],
  ['1.5', '0', '2.5e-3', '-1.25', '.5', ''],
  ['t', 'f', 'TRUE', 'no', 'On', '1'],
  ['2024-02-29', '1999-12-31', ''],
  ['2024-01-01 00:00:00+00', '2024-06-30 12:34:56.789+05:30', '2024-01-01 00:00:00.5-08'],
  ['2024-01-01 00:00:00', '2024-01-01 00:00:00.123'],
  ['12:00:00', '23:59:59.999999'],
  ['abc', 'héllo', 'ab,c', 'a"b', 'e\u0301e\u0301e', ''],
  ['{"a": 1, "b": "x"}', '[1, 2, null]', 'null', '"s"', '{"a": [1, "x,y"]}', '-0'],
  ['[1, "a"]', '[]', '[[1], [2]]'],
  ['0aff', 'ABCD', ''],
];

/** Per column, values just outside the simple forms, valid or not, which only the reader may judge. */
const ODD: readonly (readonly string[])[] = [
  ['007', '1e3', '99999999999999999999999999999999999999', ''],
  ['1.234', '12345678901', '1e2', '.5'],
  ['-0', 'NaN', 'inf', 'Infinity', '1e400', '+1'],
  ['maybe', ''],
  ['2023-02-29', '0001-01-01', '2024-1-5', '01-JAN-2024', ''],
  [
    '2024-01-01 24:00:00+00',
    '2024-01-01 00:00:00+15',
    '2024-01-01 00:00:00',
    '9999-12-31 23:00:00-10',
    '2024-01-01T00:00:00Z',
  ],
  ['2024-01-01 00:00:00.1234', '2024-01-01 00:00:00+01'],
  ['24:00:00', '1:02:03', ''],
  ['toolong', ' x '],
  [
    '{"a":1,"a":2}',
    '{"n": 2.50}',
    '[1,]',
    '{"a": {"b": 1}}',
    '"s\\"q"',
    '[12345678901234567890]',
    'nope',
    '[1.0]',
  ],
  ['3', '{"a": 1}'],
  ['xyz', '0'],
];

/** How a field is written: plainly, enclosed, or in one of the ways the two readers could tell apart. */
const encoding = fc.constantFrom('plain', 'plain', 'plain', 'enclosed', 'enclosed', 'spaced', 'raw-quote');

function writeField(value: string, how: string): string {
  // An empty field is NULL whichever way, so that a clean record stays clean; `""` is an odd value's doing.
  if (value === '' && how !== 'spaced' && how !== 'raw-quote') return '';
  const enclosed = `"${value.replaceAll('"', '""')}"`;
  switch (how) {
    case 'enclosed':
      return enclosed;
    case 'spaced':
      return ` ${enclosed}`;
    case 'raw-quote':
      return `${value}"`;
    default:
      return /[",\n\r]/.test(value) || value === '' ? (value === '' ? '' : enclosed) : value;
  }
}

/** A record: clean (simple values, plainly written), or with odd values and odd writing here and there. */
const record = (id: number, clean: boolean) =>
  fc
    .tuple(
      ...SIMPLE.map((simple, c) => {
        if (c === 0) return fc.constant(String(id)).map((v) => writeField(v, 'plain'));
        const value = clean ? fc.constantFrom(...simple) : fc.constantFrom(...simple, ...(ODD[c] ?? []));
        const how = clean ? fc.constantFrom('plain', 'enclosed') : encoding;
        return fc.tuple(value, how).map(([v, h]) => writeField(v, h));
      }),
    )
    .map((fields) => fields.join(','));

/**
 * A file: a header and records, all clean, or one of them not, or many not; now and then a blank line, CRLF,
 * a short or long record.
 */
const file = fc
  .tuple(
    fc.integer({ min: 0, max: 8 }),
    fc.constantFrom('clean', 'clean', 'one odd record', 'mixed'),
    fc.constantFrom('', '', '', '', '\n', '\r\n', ',', 'x,'),
    fc.boolean(),
    fc.constantFrom('abort_statement', 'continue', 'skip_file'),
    fc.constantFrom(...Object.keys(CODECS)),
  )
  .chain(([count, kind, odd, atEnd, onError, codec]) =>
    fc.tuple(
      fc.tuple(
        ...Array.from({ length: count }, (_v, i) =>
          record(i + 1, kind === 'clean' || (kind === 'one odd record' && i !== count - 1)),
        ),
      ),
      fc.constant(kind === 'clean' ? '' : odd),
      fc.constant(atEnd),
      fc.constant(onError),
      fc.constant(codec),
    ),
  )
  .map(([records, odd, atEnd, onError, codec]) => {
    const text = `${[COLUMNS.map(([name]) => name).join(','), ...records].join('\n')}\n`;
    if (odd === '') return { text, onError, codec };
    return { text: atEnd ? `${text}${odd}` : text.replace('\n', `\n${odd}`), onError, codec };
  });

async function outcome(engine: Engine, key: string, onError: string, codec: string): Promise<unknown> {
  const run = (sql: string): Promise<QueryResult> => engine.execute(sql, [], session);
  await run(`create or replace table p (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  try {
    const copy = await run(`copy into p from @st_${codec} files = ('${key}') on_error = ${onError}`);
    const rows = await run('select id, n, f, b, d, ts, ntz, t, s, v, a, bin from p order by id');
    return { copy: copy.rows.map((r) => r.slice(1)), rows: rows.rows };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { error: e.code, message: e.message };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sf-plain-test-'));
  s3 = new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
  const options = (name: string, bulkLoad: boolean) => ({
    file: path.join(dir, `${name}.duckdb`),
    s3: stack.s3,
    defaultDatabase: 'TALLY',
    defaultSchema: 'PUBLIC',
    defaultWarehouse: 'WH',
    bulkLoad,
  });
  bulk = await createEngine(options('bulk', true));
  reference = await createEngine(options('reference', false));
  for (const engine of [bulk, reference]) {
    const admin = { ...session, id: 'admin', role: 'ACCOUNTADMIN' };
    await engine.execute(
      "create storage integration s3_int type = external_stage storage_provider = 'S3' enabled = true storage_allowed_locations = ('s3://x/')",
      [],
      admin,
    );
    await engine.execute('grant usage on integration s3_int to role sysadmin', [], admin);
    for (const codec of Object.keys(CODECS)) {
      await engine.execute(
        `create or replace file format tally_csv_${codec} ${fileFormatOptions(codec as CodecName)}`,
        [],
        session,
      );
      await engine.execute(
        `create or replace stage st_${codec} url = 's3://${stack.s3.bucket}/${prefix}' storage_integration = s3_int file_format = (format_name = tally_csv_${codec})`,
        [],
        session,
      );
    }
  }
});

afterAll(async () => {
  await bulk?.close();
  await reference?.close();
  s3?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('COPY by DuckDB reader against the record-by-record reader', () => {
  it('answers the same COPY rows or error and loads the same rows, for plain and odd files alike', async () => {
    let n = 0;
    const before = bulkLoaded.files;
    await fc.assert(
      fc.asyncProperty(file, async ({ text, onError, codec }) => {
        const key = `f${n++}.csv.${codec === 'zstd' ? 'zst' : 'gz'}`;
        const body = (CODECS[codec] as (t: string) => Buffer)(text);
        await s3.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: `${prefix}${key}`, Body: body }));
        expect(await outcome(bulk, key, onError, codec)).toEqual(
          await outcome(reference, key, onError, codec),
        );
      }),
      { numRuns: 40 },
    );
    // The comparison means something only if the bulk path loaded files itself, not only handed them on.
    expect(bulkLoaded.files - before).toBeGreaterThan(5);
  }, 120_000);

  it('loads a file of several megabytes alike in every codec, by the bulk path, its records cut across decompressed chunks', async () => {
    // Decompressed in megabyte chunks: records, enclosed fields and UTF-8 sequences fall across their edges.
    const records = Array.from(
      { length: 30_000 },
      (_v, i) =>
        `${i + 1},12.34,-1.25,t,2024-02-29,2024-06-30 12:34:56.789+05:30,2024-01-01 00:00:00.123,23:59:59.999999,"hé,${i % 10}","{""a"": [1, ""x,y""]}","[1, ""a""]",0aff`,
    );
    const text = `${[COLUMNS.map(([name]) => name).join(','), ...records].join('\n')}\n`;
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    for (const [codec, compress] of Object.entries(CODECS)) {
      const key = `large.csv.${codec}`;
      await s3.send(
        new PutObjectCommand({ Bucket: stack.s3.bucket, Key: `${prefix}${key}`, Body: compress(text) }),
      );
      const before = bulkLoaded.files;
      const loaded = await outcome(bulk, key, 'abort_statement', codec);
      expect(bulkLoaded.files - before, codec).toBe(1);
      expect(loaded, codec).toMatchObject({
        copy: [['LOADED', '30000', '30000', '1', '0', null, null, null, null]],
      });
      expect(loaded, codec).toEqual(await outcome(reference, key, 'abort_statement', codec));
    }
  }, 120_000);

  it('takes the bulk path for a file of plain records and leaves any other to the reader', () => {
    const scan = (text: string) => {
      const s = new PlainScan(3, 0x2c, true);
      return s.feed(Buffer.from(text)) && s.end() ? s.records : undefined;
    };
    expect(scan('1,"a ""b""",\n2,"x\ny",z\n3,,')).toBe(3);
    expect(scan('1,2,"3"\n"4",5,"6"\n')).toBe(2);
    expect(scan('1,2,3\n\n4,5,6\n')).toBeUndefined();
    expect(scan('1,2,3\r\n')).toBeUndefined();
    expect(scan('1,2\n')).toBeUndefined();
    expect(scan('1,2,3,\n')).toBeUndefined();
    expect(scan('1,"a" ,3\n')).toBeUndefined();
    expect(scan('1, "a",3\n')).toBeUndefined();
    expect(scan('1,a"b,3\n')).toBeUndefined();
    expect(scan('1,"open,3\n')).toBeUndefined();
    // Inside a long unenclosed run, each byte that means something still counts.
    expect(scan('1,abcdefgh\rijk,3\n')).toBeUndefined();
    expect(scan('1,abcdefgh"ijk,3\n')).toBeUndefined();
    expect(scan('1,abcdefgh,ijk,3\n')).toBeUndefined();
    expect(scan('12345,abcdefgh,ijklmnop\n67890,qrstuvwx,yz\n')).toBe(2);
    // A run that ends with a chunk goes on in the next one.
    const runs = new PlainScan(3, 0x2c, true);
    const text = Buffer.from('1,abcdef,ghij\n2,klm,nop\n');
    expect([4, 13, 20].every((_cut, k, cuts) => runs.feed(text.subarray(cuts[k - 1] ?? 0, cuts[k])))).toBe(
      true,
    );
    expect(runs.feed(text.subarray(20)) && runs.end() && runs.records).toBe(2);
    const split = new PlainScan(1, 0x2c, true);
    const bytes = Buffer.from('é\n');
    expect(split.feed(bytes.subarray(0, 1)) && split.feed(bytes.subarray(1)) && split.end()).toBe(true);
    expect(new PlainScan(1, 0x2c, true).feed(Buffer.from([0xc3, 0x28, 0x0a]))).toBe(false);
  });
});
