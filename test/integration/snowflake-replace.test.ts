// The historical load's replaceWith against the stand-ins: one transaction deletes the target's rows and
// COPYs the export in, so a rerun leaves the target identical and a failed load keeps the previous rows.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { connect, destroy, exec } from '../support/snowflake-client';
import { warehouseFixture } from '../support/warehouse-fixture';

const fx = warehouseFixture('replace');
const stack = inject('stack');
const { pgSchema: PG_SCHEMA, sfSchema: SF_SCHEMA, s3, sfConfig } = fx;

/** A source table of `rows` rows (ids 1..rows), resolved and bootstrapped in the warehouse. */
async function sourceTable(name: string, rows: number): Promise<ResolvedTable> {
  await fx.admin.query(
    `CREATE TABLE ${PG_SCHEMA}.${name} (id int PRIMARY KEY, updated_at timestamptz NOT NULL, v text, n numeric(12,2))`,
  );
  await fx.admin.query(
    `INSERT INTO ${PG_SCHEMA}.${name}
     SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute', CASE WHEN g % 7 = 0 THEN NULL ELSE 'v' || g END, g / 4.0
     FROM generate_series(1, ${rows}) g`,
  );
  return fx.keyedTable(name);
}

async function exportAll(table: ResolvedTable, label: string): Promise<string[]> {
  const result = await fx.source.export(table, { kind: 'all' }, fx.stage, {
    // The fixture's file format is gzip's (bootstrap(..., 'gzip')), as the files staged by hand here are.
    compression: { codec: 'gzip', level: 1 },
    keyPrefix: `${s3.prefix}/${label}`,
  });
  return result.files.map((f) => f.key);
}

/** Every row of a table, ordered by id, each as one comparable line. */
async function sourceRows(name: string): Promise<string[]> {
  const { rows } = await fx.admin.query<{ line: string }>(
    `SELECT id || '|' || extract(epoch FROM updated_at)::bigint || '|' || coalesce(v, '<null>') || '|' || n AS line
     FROM ${PG_SCHEMA}.${name} ORDER BY id`,
  );
  return rows.map((r) => r.line);
}

async function targetRows(name: string): Promise<string[]> {
  const { rows } = await exec(
    fx.reader,
    `SELECT ID, UPDATED_AT, V, N FROM ${name.toUpperCase()} ORDER BY ID`,
  );
  return rows.map(
    (r) =>
      `${r.ID}|${(r.UPDATED_AT as { getEpochSeconds(): number }).getEpochSeconds()}|${r.V ?? '<null>'}|${Number(r.N).toFixed(2)}`,
  );
}

async function targetCount(name: string): Promise<number> {
  const { rows } = await exec(fx.reader, `SELECT COUNT(*) AS C FROM ${name.toUpperCase()}`);
  return Number(rows[0]?.C);
}

/** Stages one gzip CSV part (header line first, as the exporter writes it) and returns its key. */
async function stagePart(key: string, lines: readonly string[]): Promise<string> {
  const body = gzipSync(`id,updated_at,v,n\n${lines.map((l) => `${l}\n`).join('')}`);
  await fx.stage.upload(key, Readable.from([body]));
  return key;
}

describe('the Snowflake loader replacing a target (replaceWith)', () => {
  it('leaves the target identical, row by row, when the same files or a new export of the same data load again', async () => {
    const table = await sourceTable('rerun', 250);
    const keys = await exportAll(table, 'rerun-1');

    const first = await fx.warehouse.replaceWith(table, keys);
    expect(first.rowsLoaded).toBe(250);
    expect(first.files.every((f) => f.status === 'LOADED')).toBe(true);
    const expected = await sourceRows('rerun');
    expect(await targetRows('rerun')).toEqual(expected);

    // A retry of the same job stages the same keys: FORCE loads them again instead of skipping them.
    const again = await fx.warehouse.replaceWith(table, keys);
    expect(again.rowsLoaded).toBe(250);
    expect(await targetRows('rerun')).toEqual(expected);

    // A rerun as a new job stages new keys holding the same rows.
    await fx.warehouse.replaceWith(table, await exportAll(table, 'rerun-2'));
    expect(await targetRows('rerun')).toEqual(expected);
  });

  it('replaces the content exactly with a newer export: deleted source rows disappear, changed rows change, none doubles', async () => {
    const table = await sourceTable('newer', 120);
    await fx.warehouse.replaceWith(table, await exportAll(table, 'newer-1'));
    expect(await targetCount('newer')).toBe(120);

    await fx.admin.query(`DELETE FROM ${PG_SCHEMA}.newer WHERE id % 3 = 0`);
    await fx.admin.query(`UPDATE ${PG_SCHEMA}.newer SET v = 'changed', n = n + 1 WHERE id % 5 = 0`);
    await fx.admin.query(
      `INSERT INTO ${PG_SCHEMA}.newer SELECT g, '2025-01-01', 'new', 1 FROM generate_series(500, 509) g`,
    );
    await fx.warehouse.replaceWith(table, await exportAll(table, 'newer-2'));

    const expected = await sourceRows('newer');
    expect(expected).toHaveLength(90);
    expect(await targetRows('newer')).toEqual(expected);
  });

  it('empties the target when the newer export of the source table has no rows', async () => {
    const table = await sourceTable('emptied', 15);
    await fx.warehouse.replaceWith(table, await exportAll(table, 'emptied-1'));
    expect(await targetCount('emptied')).toBe(15);

    await fx.admin.query(`DELETE FROM ${PG_SCHEMA}.emptied`);
    const result = await fx.warehouse.replaceWith(table, await exportAll(table, 'emptied-2'));
    // The export of an empty table is one file holding only its header: it loads, with no rows.
    expect(result.files.map((f) => [f.status, f.rowsParsed])).toEqual([['LOADED', 0]]);
    expect(result.rowsLoaded).toBe(0);
    expect(await targetCount('emptied')).toBe(0);
  });

  it('keeps the previous rows when a file holds a bad value, and names the conversion error', async () => {
    const table = await sourceTable('badfile', 40);
    await fx.warehouse.replaceWith(table, await exportAll(table, 'badfile-1'));
    const before = await targetRows('badfile');
    expect(before).toHaveLength(40);

    const good = await exportAll(table, 'badfile-2');
    const bad = await stagePart(`${s3.prefix}/badfile-2/part-bad.csv.gz`, [
      'not-a-number,2024-01-01 00:00:00+00,x,1',
    ]);
    await expect(fx.warehouse.replaceWith(table, [...good, bad])).rejects.toMatchObject({
      name: 'WarehouseConversionError',
    });
    expect(await targetRows('badfile')).toEqual(before);

    // The failed attempt left no transaction or lock behind: the next load replaces as usual.
    await fx.admin.query(`DELETE FROM ${PG_SCHEMA}.badfile WHERE id > 30`);
    await fx.warehouse.replaceWith(table, await exportAll(table, 'badfile-3'));
    expect(await targetRows('badfile')).toEqual(await sourceRows('badfile'));
  });

  it('loads more than 1,000 files in several COPYs of one transaction, and rolls all back when a later batch fails', async () => {
    const table = await sourceTable('many', 0);
    const keys: string[] = [];
    for (let i = 1; i <= 1002; i += 1) {
      keys.push(`${s3.prefix}/many/part-${String(i).padStart(5, '0')}.csv.gz`);
    }
    const line = (i: number) => `${i},2024-01-01 00:00:00+00,v${i},${i}.00`;
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key, j) => stagePart(key, [line(i + j + 1)])));
    }

    const result = await fx.warehouse.replaceWith(table, keys);
    expect(result.files).toHaveLength(1002);
    expect(result.rowsLoaded).toBe(1002);
    expect(await targetCount('many')).toBe(1002);
    const loaded = await targetRows('many');

    // The bad file sits in the second COPY: the first COPY's 1,000 files and the DELETE must be undone too.
    const bad = await stagePart(`${s3.prefix}/many/part-bad.csv.gz`, ['2000,not-a-time,x,1']);
    const withBad = [...keys.slice(0, 1000), bad];
    await expect(fx.warehouse.replaceWith(table, withBad)).rejects.toMatchObject({
      name: 'WarehouseConversionError',
    });
    expect(await targetRows('many')).toEqual(loaded);
  }, 120_000);

  it('never shows a concurrent reader an empty or partial table while the target is replaced', async () => {
    const table = await sourceTable('reader', 300);
    const keys = await exportAll(table, 'reader-1');
    await fx.warehouse.replaceWith(table, keys);

    // Another session observes the table through the whole replacement; each count it sees must be whole.
    const seen = new Set<number>();
    let done = false;
    const watching = (async () => {
      while (!done) seen.add(await targetCount('reader'));
      seen.add(await targetCount('reader'));
    })();
    await fx.admin.query(`DELETE FROM ${PG_SCHEMA}.reader WHERE id > 200`);
    const newer = await exportAll(table, 'reader-2');
    await fx.warehouse.replaceWith(table, keys);
    await fx.warehouse.replaceWith(table, newer);
    done = true;
    await watching;

    expect([...seen].every((n) => n === 300 || n === 200)).toBe(true);
    expect(seen.has(200)).toBe(true);
  });

  it('isolates the DELETE and COPY of an open transaction from other sessions until COMMIT (stand-in semantics)', async () => {
    const table = await sourceTable('isolation', 10);
    const keys = await exportAll(table, 'isolation-1');
    await fx.warehouse.replaceWith(table, keys);
    const writer = await connect({ ...stack.snowflake, schema: SF_SCHEMA });
    try {
      // FILES names are relative to the stage URL, which ends with the prefix.
      const files = keys.map((k) => `'${k.slice(s3.prefix.length + 1)}'`).join(', ');
      const copy = `COPY INTO ISOLATION FROM @${sfConfig.stage} FILES = (${files}) FILE_FORMAT = (FORMAT_NAME = '${sfConfig.fileFormat}') ON_ERROR = ABORT_STATEMENT FORCE = TRUE`;

      await exec(writer, 'BEGIN');
      await exec(writer, 'DELETE FROM ISOLATION WHERE ID > 5');
      expect(await targetCount('isolation')).toBe(10);
      await exec(writer, 'ROLLBACK');
      expect(await targetCount('isolation')).toBe(10);

      await exec(writer, 'BEGIN');
      await exec(writer, 'DELETE FROM ISOLATION');
      expect(Number((await exec(writer, 'SELECT COUNT(*) AS C FROM ISOLATION')).rows[0]?.C)).toBe(0);
      await exec(writer, copy);
      await exec(writer, copy);
      expect(await targetCount('isolation')).toBe(10);
      await exec(writer, 'COMMIT');
      expect(await targetCount('isolation')).toBe(20);
    } finally {
      await destroy(writer);
    }
  });
});
