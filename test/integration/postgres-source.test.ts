import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectiveCompression } from '../../lambdas/adapters/compression';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { partKey } from '../../lambdas/adapters/postgres/csv-parts';
import { createS3Client, S3Stage } from '../../lambdas/adapters/s3';
import type { ResolvedTable, TableSpec } from '../../lambdas/domain/table';
import { freePort } from '../../local/free-port';
import {
  ALL_TYPES_ROWS,
  allTypesSpec,
  createAllTypes,
  exportedForm,
  readAllTypes,
} from '../support/all-types';
import { pgClient, pgConfig, readParts, recordsAsObjects, s3Config } from '../support/postgres';

const SCHEMA = 'source_test';
const HOSTILE = 'x"; drop table y; --';

let admin: pg.Client;
let source: PostgresSource;
let stage: S3Stage;
const s3 = () => createS3Client(s3Config());
const spec = (overrides: Partial<TableSpec> = {}): TableSpec => ({
  ...allTypesSpec({ schema: SCHEMA }),
  ...overrides,
});

beforeAll(async () => {
  admin = await pgClient();
  await createAllTypes(admin, { schema: SCHEMA });
  await admin.query(`
    DROP TABLE IF EXISTS ${SCHEMA}.y;
    CREATE TABLE ${SCHEMA}.y (id int PRIMARY KEY);
    INSERT INTO ${SCHEMA}.y VALUES (1);
    CREATE TABLE IF NOT EXISTS ${SCHEMA}."x""; drop table y; --" (id int PRIMARY KEY, updated_at timestamptz NOT NULL, "we""ird, name" text);
    TRUNCATE ${SCHEMA}."x""; drop table y; --";
    INSERT INTO ${SCHEMA}."x""; drop table y; --" VALUES (1, '2024-01-01', 'a'), (2, '2024-01-02', NULL);
    CREATE TABLE IF NOT EXISTS ${SCHEMA}.no_pk (id int, updated_at timestamptz);
    CREATE TABLE IF NOT EXISTS ${SCHEMA}.composite (a int, b int, updated_at timestamptz, PRIMARY KEY (a, b));
    CREATE TABLE IF NOT EXISTS ${SCHEMA}.odd_types (id int PRIMARY KEY, updated_at timestamptz, spot point, span int4range, words text);
    CREATE OR REPLACE VIEW ${SCHEMA}.a_view AS SELECT * FROM ${SCHEMA}.y;
  `);
  source = new PostgresSource(pgConfig());
  stage = new S3Stage(s3Config());
});

afterAll(async () => {
  await source?.close();
  await admin?.end();
});

async function expectNoObjects(prefix: string): Promise<void> {
  expect(await stage.list(prefix)).toEqual([]);
}

describe('PostgresSource.resolve', () => {
  it('confirms a table with its columns, primary key and cursor kind from the catalog', async () => {
    const table = await source.resolve(spec());
    expect(table.primaryKey).toEqual(['id']);
    expect(table.cursorKind).toBe('timestamp');
    expect(table.targetName).toBe('ALL_TYPES');
    expect(table.columns.map((c) => c.name)).toEqual(Object.keys(ALL_TYPES_ROWS[0] ?? {}));
    const byName = Object.fromEntries(table.columns.map((c) => [c.name, c]));
    expect(byName.c_numeric_scaled?.pgType).toBe('numeric(38,9)');
    expect(byName.c_int_array).toMatchObject({ category: 'A', baseType: 'int4' });
    expect(byName.c_enum).toMatchObject({ category: 'E', baseType: 'all_types_mood' });
    expect(byName.updated_at?.nullable).toBe(false);
  });

  it('gives an integer cursor the integer kind', async () => {
    const table = await source.resolve(spec({ cursorColumn: 'c_bigint' }));
    expect(table.cursorKind).toBe('integer');
  });

  it('refuses an unknown table, naming it and what to check, and leaves nothing in S3', async () => {
    const prefix = 'pg-source-test/unknown-table';
    const attempt = source.resolve(spec({ name: 'no_such_table' }));
    await expect(attempt).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/table "no_such_table" does not exist.*check the table name/),
    });
    await expectNoObjects(prefix);
  });

  it('refuses an unknown schema', async () => {
    await expect(source.resolve(spec({ schema: 'no_such_schema' }))).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/schema "no_such_schema" does not exist/),
    });
  });

  it('refuses an unknown cursor column and lists the columns that could be one', async () => {
    const attempt = source.resolve(spec({ cursorColumn: 'modified_at' }));
    await expect(attempt).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(
        /cursor column "modified_at" does not exist.*set cursorColumn.*updated_at/,
      ),
    });
    await expectNoObjects('pg-source-test/unknown-cursor');
  });

  it('refuses a cursor column of a type that cannot order changes', async () => {
    await expect(source.resolve(spec({ cursorColumn: 'c_text' }))).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/cursor column "c_text" .* has type text/),
    });
  });

  it('refuses a primary key that is not the table primary key, and says what it is', async () => {
    await expect(source.resolve(spec({ primaryKey: ['c_uuid'] }))).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/set primaryKey to \["id"\]/),
    });
    await expect(
      source.resolve({
        schema: SCHEMA,
        name: 'composite',
        primaryKey: ['b', 'a'],
        cursorColumn: 'updated_at',
      }),
    ).rejects.toThrow(/set primaryKey to \["a", "b"\]/);
  });

  it('refuses a table without a primary key, and a view', async () => {
    await expect(
      source.resolve({ schema: SCHEMA, name: 'no_pk', primaryKey: ['id'], cursorColumn: 'updated_at' }),
    ).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/no primary key: add one/),
    });
    await expect(
      source.resolve({ schema: SCHEMA, name: 'a_view', primaryKey: ['id'], cursorColumn: 'id' }),
    ).rejects.toMatchObject({ name: 'SourceSchemaError', message: expect.stringMatching(/is not a table/) });
  });

  it('refuses columns whose types have no CSV mapping, naming each', async () => {
    const attempt = source.resolve({
      schema: SCHEMA,
      name: 'odd_types',
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    });
    await expect(attempt).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/"spot" \(point\), "span" \(int4range\)/),
    });
  });

  it('handles a hostile table name as a name: it resolves, exports, and executes nothing', async () => {
    const table = await source.resolve({
      schema: SCHEMA,
      name: HOSTILE,
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    });
    expect(table.columns.map((c) => c.name)).toEqual(['id', 'updated_at', 'we"ird, name']);
    const result = await source.export(table, { kind: 'all' }, stage, {
      keyPrefix: 'pg-source-test/hostile',
    });
    expect(result.rows).toBe(2);
    const [part] = await readParts(
      s3(),
      stage.bucket,
      result.files.map((f) => f.key),
    );
    expect(part?.header).toEqual(['id', 'updated_at', 'we"ird, name']);
    expect(part?.records).toEqual([
      ['1', '2024-01-01 00:00:00+00', 'a'],
      ['2', '2024-01-02 00:00:00+00', null],
    ]);
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.y`)).rows[0].n).toBe(1);
  });

  it('refuses a hostile name that matches no table, leaves the database intact and nothing in S3', async () => {
    const attempt = source.resolve({
      schema: SCHEMA,
      name: 'y"; drop table y; --',
      primaryKey: ['id'],
      cursorColumn: 'id',
    });
    await expect(attempt).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringMatching(/does not exist/),
    });
    const hostileSchema = source.resolve({
      schema: `${SCHEMA}"; drop table ${SCHEMA}.y; --`,
      name: 'y',
      primaryKey: ['id'],
      cursorColumn: 'id',
    });
    await expect(hostileSchema).rejects.toMatchObject({ name: 'SourceSchemaError' });
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.y`)).rows[0].n).toBe(1);
    await expectNoObjects('pg-source-test/hostile-missing');
  });
});

describe('PostgresSource connection errors', () => {
  it('names an unreachable PostgreSQL as transient, says what to check, and leaves nothing in S3', async () => {
    const table = await source.resolve(spec());
    const port = await freePort();
    const down = new PostgresSource(
      pgConfig({
        url: undefined,
        host: '127.0.0.1',
        port,
        database: 'tally',
        user: 'tally',
        password: 'tally-local',
        connectTimeoutMs: 2_000,
      }),
    );
    try {
      await expect(down.resolve(spec())).rejects.toMatchObject({
        name: 'SourceUnavailableError',
        transient: true,
        message: expect.stringMatching(
          new RegExp(`127\\.0\\.0\\.1:${port}.*check postgres\\.host and postgres\\.port`),
        ),
      });
      const prefix = 'pg-source-test/unreachable';
      await expect(down.export(table, { kind: 'all' }, stage, { keyPrefix: prefix })).rejects.toMatchObject({
        name: 'SourceUnavailableError',
      });
      await expectNoObjects(prefix);
    } finally {
      await down.close();
    }
  });

  it('names a wrong password as an auth error without repeating the password', async () => {
    const url = new URL(inject('stack').postgres.url);
    url.password = 'Wr0ng-s3cret';
    const wrong = new PostgresSource(pgConfig({ url: url.toString() }));
    try {
      const err = (await wrong.resolve(spec()).then(
        () => new Error('resolved'),
        (e: unknown) => e,
      )) as Error;
      expect(err).toMatchObject({
        name: 'SourceAuthError',
        message: expect.stringMatching(/check postgres\.user and the password/),
      });
      expect(err.message).not.toContain('Wr0ng-s3cret');
      expect(err.message).not.toContain('tally-local');
    } finally {
      await wrong.close();
    }
  });

  it('reads the password from passwordFile', async () => {
    const url = new URL(inject('stack').postgres.url);
    const file = join(tmpdir(), `tally-pg-password-${process.pid}`);
    await writeFile(file, `${decodeURIComponent(url.password)}\n`, { mode: 0o600 });
    const fromFile = new PostgresSource(
      pgConfig({
        url: undefined,
        host: url.hostname,
        port: Number(url.port),
        database: url.pathname.slice(1),
        user: url.username,
        passwordFile: file,
        // The url said sslmode=disable; the embedded server has no certificate.
        ssl: false,
      }),
    );
    try {
      expect((await fromFile.resolve(spec())).name).toBe('all_types');
    } finally {
      await fromFile.close();
    }
  });
});

describe('PostgresSource.count', () => {
  let table: ResolvedTable;
  beforeAll(async () => {
    table = await source.resolve(spec());
  });

  it('counts the whole table', async () => {
    expect(await source.count(table, { kind: 'all' })).toBe(ALL_TYPES_ROWS.length);
  });

  it('counts a window [from, to) on the cursor, with open ends', async () => {
    const from = '2024-01-15T08:30:01Z';
    const to = '2024-01-15T08:30:04Z';
    expect(await source.count(table, { kind: 'window', window: { from, to } })).toBe(3);
    expect(await source.count(table, { kind: 'window', window: { from: null, to } })).toBe(4);
    expect(await source.count(table, { kind: 'window', window: { from, to: null } })).toBe(7);
  });

  it('refuses a malformed window bound', async () => {
    await expect(
      source.count(table, { kind: 'window', window: { from: 'yesterday', to: null } }),
    ).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
  });
});

describe('PostgresSource.export of every type', () => {
  let table: ResolvedTable;
  beforeAll(async () => {
    table = await source.resolve(spec());
  });

  it('writes the whole table so that every value reads back equal to the source', async () => {
    const result = await source.export(table, { kind: 'all' }, stage, {
      keyPrefix: 'pg-source-test/all-types/whole',
    });
    expect(result).toMatchObject({ sourceCount: 8, rows: 8 });
    expect(result.files.map((f) => f.key)).toEqual([
      partKey('pg-source-test/all-types/whole', 0, effectiveCompression(undefined).codec),
    ]);
    const parts = await readParts(
      s3(),
      stage.bucket,
      result.files.map((f) => f.key),
    );
    const exported = recordsAsObjects(parts);
    // Equal to the fixture's literal values (independent of PostgreSQL) and to what PostgreSQL holds.
    expect(exported).toEqual(ALL_TYPES_ROWS.map(exportedForm));
    expect(exported).toEqual((await readAllTypes(admin, { schema: SCHEMA })).map(exportedForm));
    expect(result.rawBytes).toBe(Buffer.byteLength(parts[0]?.text ?? ''));
    expect(result.compressedBytes).toBe(result.files[0]?.compressedBytes);
  });

  it('keeps NULL and the empty string apart in the CSV itself', async () => {
    const window = { from: '2024-01-15T08:30:01Z', to: '2024-01-15T08:30:03Z' };
    const result = await source.export(table, { kind: 'window', window }, stage, {
      keyPrefix: 'pg-source-test/all-types/nulls',
    });
    const [part] = await readParts(
      s3(),
      stage.bucket,
      result.files.map((f) => f.key),
    );
    const lines = part?.text.split('\n') ?? [];
    // Row 2 is all NULL: unquoted empty fields. Row 3 has empty text: a quoted "".
    expect(lines[1]).toMatch(/^2,[^,]+,,,,/);
    expect(lines[2]).toMatch(/^3,[^,]+,"","",/);
  });

  it('writes a window with only its rows, equal value by value, and reports its upper bound', async () => {
    const window = { from: '2024-01-15T08:30:03Z', to: '2024-01-15T08:30:06Z' };
    const result = await source.export(table, { kind: 'window', window }, stage, {
      keyPrefix: 'pg-source-test/all-types/window',
      compression: { codec: 'gzip', level: 1 },
    });
    expect(result).toMatchObject({ sourceCount: 3, rows: 3, upper: window.to });
    const exported = recordsAsObjects(
      await readParts(
        s3(),
        stage.bucket,
        result.files.map((f) => f.key),
      ),
    );
    expect(exported).toEqual(
      ALL_TYPES_ROWS.filter((r) => ['4', '5', '6'].includes(r.id ?? '')).map(exportedForm),
    );
  });

  it('writes an empty slice as one file holding only the header', async () => {
    // A start in the future: the bound chosen from the clock is below it, so the window is empty.
    const window = { from: '2030-01-01T00:00:00Z', to: null };
    const result = await source.export(table, { kind: 'window', window }, stage, {
      keyPrefix: 'pg-source-test/empty',
    });
    expect(result).toMatchObject({ sourceCount: 0, rows: 0, upper: window.from });
    const [part] = await readParts(
      s3(),
      stage.bucket,
      result.files.map((f) => f.key),
    );
    expect(part?.header).toEqual(Object.keys(ALL_TYPES_ROWS[0] ?? {}));
    expect(part?.records).toEqual([]);
  });
});

describe('PostgresSource and the database encoding', () => {
  /** A database of its own in `encoding`, holding one row whose text is not ASCII. */
  async function databaseIn(encoding: string): Promise<PostgresSource> {
    const name = `enc_${encoding.toLowerCase()}_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(
      `CREATE DATABASE ${name} TEMPLATE template0 ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C'`,
    );
    // As a database or role can be set up: sessions default to the database's own encoding.
    if (encoding !== 'SQL_ASCII')
      await admin.query(`ALTER DATABASE ${name} SET client_encoding = '${encoding}'`);
    const url = new URL(inject('stack').postgres.url);
    url.pathname = `/${name}`;
    const client = await pgClient(url.toString());
    try {
      await client.query(`SET client_encoding = 'UTF8'`);
      await client.query(
        'CREATE TABLE words (id int PRIMARY KEY, updated_at timestamptz NOT NULL, word text)',
      );
      await client.query(`INSERT INTO words VALUES (1, '2024-01-01', 'café déjà')`);
    } finally {
      await client.end();
    }
    return new PostgresSource(pgConfig({ url: url.toString() }));
  }
  const words = { schema: 'public', name: 'words', primaryKey: ['id'], cursorColumn: 'updated_at' };

  it('exports a LATIN1 database as UTF-8, though its sessions default to LATIN1', async () => {
    const latin = await databaseIn('LATIN1');
    try {
      const table = await latin.resolve(words);
      const result = await latin.export(table, { kind: 'all' }, stage, {
        keyPrefix: 'pg-source-test/latin1',
      });
      const [part] = await readParts(
        s3(),
        stage.bucket,
        result.files.map((f) => f.key),
      );
      expect(part?.records).toEqual([['1', '2024-01-01 00:00:00+00', 'café déjà']]);
      expect(Buffer.from(part?.text ?? '', 'utf8').includes(Buffer.from('café', 'utf8'))).toBe(true);
    } finally {
      await latin.close();
    }
  });

  it('refuses a SQL_ASCII database by name: its bytes have no known character set', async () => {
    const ascii = await databaseIn('SQL_ASCII');
    try {
      await expect(ascii.resolve(words)).rejects.toMatchObject({
        name: 'SourceSchemaError',
        message: expect.stringMatching(/uses the SQL_ASCII encoding.*convert the database to UTF8/),
      });
    } finally {
      await ascii.close();
    }
  });
});

describe('PostgresSource.export of values Snowflake cannot hold', () => {
  const UNREPRESENTABLE = `${SCHEMA}.unrepresentable`;
  beforeAll(async () => {
    await admin.query(`
      DROP TABLE IF EXISTS ${UNREPRESENTABLE};
      CREATE TABLE ${UNREPRESENTABLE} (
        id int PRIMARY KEY, updated_at timestamptz NOT NULL,
        d date, ts timestamp, tz timestamptz, t time, n numeric(10,2), wide numeric(38,38), f float8);
      INSERT INTO ${UNREPRESENTABLE} VALUES
        (1, '2024-01-01', 'infinity', '2024-01-01', '2024-01-01', '12:00', 1.5, 0.5, 'Infinity'),
        (2, '2024-01-01', '0044-03-15 BC', '-infinity', '10000-01-01 00:00:00+00', '24:00:00', 'NaN', 0.25, '-Infinity'),
        (3, '2024-01-01', '2024-02-29', '9999-12-31 23:59:59.999999', '0001-01-01 00:00:00+00', '23:59:59.999999', 2, 0.125, 'NaN');
    `);
  });
  const unrepresentable = (textColumns?: string[]): TableSpec => ({
    schema: SCHEMA,
    name: 'unrepresentable',
    primaryKey: ['id'],
    cursorColumn: 'updated_at',
    ...(textColumns ? { textColumns } : {}),
  });

  it('fails the export by name, listing each column and how many rows hold such a value, and writes nothing', async () => {
    const table = await source.resolve(unrepresentable());
    const err = (await source
      .export(table, { kind: 'all' }, stage, { keyPrefix: 'pg-source-test/unrepresentable' })
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('UnrepresentableValueError');
    expect(err.message).toContain(
      '"d" (date): 2 row(s) with infinity, a year before 1 (BC) or a year after 9999',
    );
    expect(err.message).toContain('"ts" (timestamp without time zone): 1 row(s)');
    expect(err.message).toContain('"tz" (timestamp with time zone): 1 row(s)');
    expect(err.message).toContain(`"t" (time without time zone): 1 row(s) with the time '24:00:00'`);
    expect(err.message).toContain(`"n" (numeric(10,2)): 1 row(s) with 'NaN'`);
    expect(err.message).toContain('textColumns');
    // numeric(38,38) has no NUMBER (scale 37 at most): it travels as text and is no problem; floats neither.
    expect(err.message).not.toMatch(/"wide"|"f"/);
    await expectNoObjects('pg-source-test/unrepresentable');
  });

  it('carries the columns listed in textColumns as their exact text, and spells float infinities as Snowflake does', async () => {
    const table = await source.resolve(unrepresentable(['d', 'ts', 'tz', 't', 'n']));
    const result = await source.export(table, { kind: 'all' }, stage, {
      keyPrefix: 'pg-source-test/unrepresentable-as-text',
    });
    const exported = recordsAsObjects(
      await readParts(
        s3(),
        stage.bucket,
        result.files.map((f) => f.key),
      ),
    );
    expect(exported.map((r) => [r.d, r.ts, r.t, r.n, r.wide, r.f])).toEqual([
      [
        'infinity',
        '2024-01-01 00:00:00',
        '12:00:00',
        '1.50',
        '0.50000000000000000000000000000000000000',
        'inf',
      ],
      ['0044-03-15 BC', '-infinity', '24:00:00', 'NaN', '0.25000000000000000000000000000000000000', '-inf'],
      [
        '2024-02-29',
        '9999-12-31 23:59:59.999999',
        '23:59:59.999999',
        '2.00',
        '0.12500000000000000000000000000000000000',
        'NaN',
      ],
    ]);
  });

  it('refuses a textColumns entry that is not a column, or that is the cursor', async () => {
    await expect(source.resolve(unrepresentable(['nope']))).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringContaining('textColumns of source_test.unrepresentable names "nope"'),
    });
    await expect(source.resolve(unrepresentable(['updated_at']))).rejects.toMatchObject({
      name: 'SourceSchemaError',
      message: expect.stringContaining('names the cursor column "updated_at"'),
    });
  });
});
