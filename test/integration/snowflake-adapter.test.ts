// The Snowflake warehouse adapter against the stand-in through the unmodified snowflake-sdk: files the
// PostgreSQL adapter exported to the S3 stand-in are loaded (replace and MERGE) and read back value by value.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedTable } from '../../lambdas/domain/table';
import {
  ALL_TYPES_COLUMNS,
  type AllTypesColumn,
  allTypesSpec,
  createAllTypes,
  exportedForm,
  readAllTypes,
} from '../support/all-types';
import { exec } from '../support/snowflake-client';
import { warehouseFixture } from '../support/warehouse-fixture';

const fx = warehouseFixture('adapter');
const { pgSchema: PG_SCHEMA, s3 } = fx;

beforeAll(async () => {
  await createAllTypes(fx.admin, { schema: PG_SCHEMA });
});

async function exportAll(table: ResolvedTable, label: string): Promise<string[]> {
  const result = await fx.source.export(table, { kind: 'all' }, fx.stage, {
    // The fixture's file format is gzip's (bootstrap(..., 'gzip')), as the files staged by hand here are.
    compression: { codec: 'gzip', level: 1 },
    keyPrefix: `${s3.prefix}/${label}`,
  });
  return result.files.map((f) => f.key);
}

// -- comparing a PostgreSQL text value with what snowflake-sdk returns -----------------------------------

type SfInstant = Date & { getEpochSeconds(): number; getNanoSeconds(): number };

/** Epoch nanoseconds of PostgreSQL's `YYYY-MM-DD HH:MM:SS[.ffffff][+00]` (UTC), years 1 to 9999. */
function pgInstantNanos(text: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:\+00)?$/.exec(text);
  if (!m) throw new Error(`unexpected timestamp text ${text}`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  return BigInt(d.getTime()) * 1_000_000n + fraction;
}

const sfInstantNanos = (value: SfInstant): bigint =>
  BigInt(value.getEpochSeconds()) * 1_000_000_000n + BigInt(value.getNanoSeconds());

const trimFraction = (t: string): string => t.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

function floatOf(text: string): number {
  const special: Record<string, number> = {
    Infinity: Infinity,
    '-Infinity': -Infinity,
    inf: Infinity,
    '-inf': -Infinity,
  };
  const n = special[text] ?? Number(text);
  // The sign of a zero is not kept: -0 reads back as 0 (see the README's type mapping).
  return n === 0 ? 0 : n;
}

/** What the Snowflake value must be, for the PostgreSQL text of a column, as a comparable form. */
function comparable(column: AllTypesColumn, value: unknown, side: 'pg' | 'sf'): unknown {
  if (value === null || value === undefined) return null;
  const pgText = value as string;
  switch (column) {
    case 'id':
    case 'c_smallint':
    case 'c_integer':
    case 'c_bigint':
    case 'c_numeric_scaled':
      return String(value);
    case 'c_real':
    case 'c_double':
      return floatOf(String(value));
    case 'c_boolean':
      return side === 'pg' ? pgText === 't' : value;
    case 'c_date':
      return side === 'pg' ? pgText : (value as Date).toISOString().slice(0, 10);
    case 'c_time':
      return trimFraction(String(value));
    case 'c_timestamp':
    case 'c_timestamptz':
    case 'updated_at':
      return side === 'pg' ? pgInstantNanos(pgText) : sfInstantNanos(value as SfInstant);
    case 'c_jsonb':
    case 'c_int_array':
    case 'c_text_array':
      // The PostgreSQL side is given as the export writes it (arrays as JSON): see `exportedForm`.
      return side === 'pg' ? JSON.parse(pgText) : value;
    default:
      return value;
  }
}

describe('the Snowflake loader loading PostgreSQL exports', () => {
  it('loads every type of the fixture so that it reads back equal to PostgreSQL value by value', async () => {
    const table = await fx.source.resolve(allTypesSpec({ schema: PG_SCHEMA }));
    await fx.warehouse.bootstrap([table], 'gzip');
    await fx.warehouse.bootstrap([table], 'gzip'); // idempotent
    const keys = await exportAll(table, 'all-types');
    const load = await fx.warehouse.replaceWith(table, keys);
    const expected = (await readAllTypes(fx.admin, { schema: PG_SCHEMA })).map(exportedForm);
    expect(load.rowsLoaded).toBe(expected.length);
    expect(load.files.every((f) => f.status === 'LOADED')).toBe(true);

    await exec(fx.reader, "ALTER SESSION SET TIME_OUTPUT_FORMAT = 'HH24:MI:SS.FF6'");
    const { rows } = await exec(fx.reader, `SELECT * FROM ${table.targetName} ORDER BY ID`, undefined, {
      fetchAsString: ['Number'],
    });
    expect(rows).toHaveLength(expected.length);
    const columns = Object.keys(ALL_TYPES_COLUMNS) as AllTypesColumn[];
    for (const [i, pgRow] of expected.entries()) {
      const sfRow = rows[i] ?? {};
      for (const column of columns) {
        const want = comparable(column, pgRow[column], 'pg');
        const got = comparable(column, sfRow[column.toUpperCase()], 'sf');
        expect({ id: pgRow.id, column, value: got }).toEqual({ id: pgRow.id, column, value: want });
      }
    }
    expect(await fx.warehouse.count(table, { kind: 'all' })).toBe(expected.length);
  });

  it('merges an overlapping window: inserts the new rows, updates the changed and duplicates nothing', async () => {
    await fx.admin.query(
      `CREATE TABLE ${PG_SCHEMA}.orders (id int PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(12,2))`,
    );
    await fx.admin.query(
      `INSERT INTO ${PG_SCHEMA}.orders SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute', g * 1.5 FROM generate_series(1, 20) g`,
    );
    const table = await fx.keyedTable('orders');
    await fx.warehouse.replaceWith(table, await exportAll(table, 'orders-initial'));

    // Rows 16-20 change, 21-25 are new; the window [minute 11, ...) also re-reads 11-15 unchanged.
    await fx.admin.query(
      `UPDATE ${PG_SCHEMA}.orders SET amount = amount + 100, updated_at = '2024-01-01'::timestamptz + interval '30 minutes' + id * interval '1 second' WHERE id > 15`,
    );
    await fx.admin.query(
      `INSERT INTO ${PG_SCHEMA}.orders SELECT g, '2024-01-01'::timestamptz + interval '31 minutes' + g * interval '1 second', g FROM generate_series(21, 25) g`,
    );
    const window = { from: '2024-01-01T00:11:00.000Z', to: '2024-01-02T00:00:00.000Z' };
    const exported = await fx.source.export(table, { kind: 'window', window }, fx.stage, {
      // The fixture's file format is gzip's (bootstrap(..., 'gzip')), as the files staged by hand here are.
      compression: { codec: 'gzip', level: 1 },
      keyPrefix: `${s3.prefix}/orders-window`,
    });
    expect(exported.rows).toBe(15);

    const merged = await fx.warehouse.merge(
      table,
      exported.files.map((f) => f.key),
    );
    expect(merged.rowsLoaded).toBe(15);
    expect(merged.inserted).toBe(5);
    expect(merged.updated).toBe(10);
    expect(await fx.warehouse.count(table, { kind: 'all' })).toBe(25);
    expect(await fx.warehouse.count(table, { kind: 'window', window })).toBe(15);

    const { rows } = await exec(
      fx.reader,
      'SELECT ID, AMOUNT FROM ORDERS WHERE ID IN (15, 16, 25) ORDER BY ID',
      undefined,
      {
        fetchAsString: ['Number'],
      },
    );
    expect(rows).toEqual([
      { ID: '15', AMOUNT: '22.50' },
      { ID: '16', AMOUNT: '124.00' },
      { ID: '25', AMOUNT: '25.00' },
    ]);
    const dup = await exec(
      fx.reader,
      'SELECT COUNT(*) AS N FROM (SELECT ID FROM ORDERS GROUP BY ID HAVING COUNT(*) > 1)',
    );
    expect(dup.rows).toEqual([{ N: 0 }]);
  });

  it('never moves a row backwards: re-merging an older window after a newer one, or the same one again, leaves the target identical', async () => {
    await fx.admin.query(
      `CREATE TABLE ${PG_SCHEMA}.items (id int PRIMARY KEY, updated_at timestamptz NOT NULL, label text)`,
    );
    await fx.admin.query(
      `INSERT INTO ${PG_SCHEMA}.items SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute', 'v1-' || g FROM generate_series(1, 10) g`,
    );
    const table = await fx.keyedTable('items');
    const exportWindow = async (label: string) => {
      const window = { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' };
      const result = await fx.source.export(table, { kind: 'window', window }, fx.stage, {
        // The fixture's file format is gzip's (bootstrap(..., 'gzip')), as the files staged by hand here are.
        compression: { codec: 'gzip', level: 1 },
        keyPrefix: `${s3.prefix}/${label}`,
      });
      return result.files.map((f) => f.key);
    };
    const older = await exportWindow('items-v1');
    await fx.warehouse.merge(table, older);
    await fx.admin.query(
      `UPDATE ${PG_SCHEMA}.items SET label = 'v2-' || id, updated_at = '2024-01-02'::timestamptz + id * interval '1 second' WHERE id <= 5`,
    );
    const newer = await exportWindow('items-v2');
    await fx.warehouse.merge(table, newer);
    const snapshot = async () =>
      (
        await exec(fx.reader, 'SELECT ID, LABEL, UPDATED_AT FROM ITEMS ORDER BY ID', undefined, {
          fetchAsString: ['Number', 'Date'],
        })
      ).rows;
    const expected = await snapshot();
    expect(expected).toHaveLength(10);
    expect(expected.filter((r) => String(r.LABEL).startsWith('v2-'))).toHaveLength(5);

    const rerunOld = await fx.warehouse.merge(table, older);
    expect(rerunOld.updated).toBe(5);
    expect(await snapshot()).toEqual(expected);
    await fx.warehouse.merge(table, newer);
    expect(await snapshot()).toEqual(expected);
  });

  it('refuses by name a staged window that holds a primary key twice, before the MERGE, and merges nothing', async () => {
    await fx.admin.query(
      `CREATE TABLE ${PG_SCHEMA}.twice (id int PRIMARY KEY, updated_at timestamptz NOT NULL, v text)`,
    );
    const table = await fx.keyedTable('twice');
    const key = `${s3.prefix}/twice/part-00000.csv.gz`;
    const csv =
      'id,updated_at,v\n1,2024-01-01 00:00:00+00,a\n2,2024-01-01 00:00:00+00,b\n1,2024-01-02 00:00:00+00,c\n';
    await fx.stage.upload(key, Readable.from([gzipSync(csv)]));
    await expect(fx.warehouse.merge(table, [key])).rejects.toMatchObject({
      name: 'DuplicateKeyError',
      message: expect.stringContaining('holds primary key (id) more than once: (1) ×2'),
    });
    expect(await fx.warehouse.count(table, { kind: 'all' })).toBe(0);
  });
});

describe('the Snowflake loader comparing an existing target with its source', () => {
  it('finds no drift in a target it made, and names each added, dropped or retyped column, but not a reordered one', async () => {
    await fx.admin.query(
      `CREATE TABLE ${PG_SCHEMA}.drifting (id int PRIMARY KEY, updated_at timestamptz NOT NULL, amount numeric(10,2), note text)`,
    );
    const table = await fx.keyedTable('drifting');
    expect(await fx.warehouse.targetDrift(table)).toEqual([]);

    // As an earlier source made it: NOTE missing, AMOUNT of another type, and a column since dropped.
    await exec(fx.reader, 'DROP TABLE DRIFTING');
    await exec(
      fx.reader,
      'CREATE TABLE DRIFTING (ID NUMBER(38,0) NOT NULL, UPDATED_AT TIMESTAMP_TZ(6) NOT NULL, AMOUNT FLOAT, EXTRA VARCHAR)',
    );
    expect(await fx.warehouse.targetDrift(table)).toEqual([
      'column "AMOUNT" is FLOAT in the target but the source maps to NUMBER(10,2): retyped?',
      'column "NOTE" (VARCHAR(134217728)) is not in the target: added at the source?',
      `the target's column "EXTRA" is not in the source: dropped at the source?`,
    ]);

    await exec(fx.reader, 'DROP TABLE DRIFTING');
    await exec(
      fx.reader,
      'CREATE TABLE DRIFTING (ID NUMBER(38,0) NOT NULL, AMOUNT NUMBER(10,2), UPDATED_AT TIMESTAMP_TZ(6) NOT NULL, NOTE VARCHAR)',
    );
    // Loads name their columns: the order of the target's does not matter.
    expect(await fx.warehouse.targetDrift(table)).toEqual([]);
  });
});
