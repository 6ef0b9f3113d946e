// Value reconciliation between PostgreSQL and the Snowflake stand-in over the all-types fixture: no
// difference when nothing changed (no false positive for any type), and every cell changed in the target
// behind Tally's back found with its key and column, as are keys missing from or added to the target.
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { writeConfigFile } from '../../lambdas/config-file';
import { isEqual } from '../../lambdas/domain/reconcile';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { compareValues } from '../../lambdas/reconcile/compare';
import { localConfig } from '../../local/local-config';
import { allTypesSpec, createAllTypes, insertGeneratedRows } from '../support/all-types';
import { scratchFolder, tally } from '../support/cli';
import { exec } from '../support/snowflake-client';
import { warehouseFixture } from '../support/warehouse-fixture';

const fx = warehouseFixture('reconcile');
let table: ResolvedTable;

async function load(): Promise<void> {
  const result = await fx.source.export(table, { kind: 'all' }, fx.stage, {
    keyPrefix: `${fx.s3.prefix}/all-types-${Date.now()}`,
    // The codec of the file format the fixture bootstraps below.
    compression: { codec: 'gzip', level: 1 },
  });
  await fx.warehouse.replaceWith(
    table,
    result.files.map((f) => f.key),
  );
}

const compare = (options = {}) =>
  compareValues({ source: fx.source, warehouse: fx.warehouse }, table, { kind: 'all' }, options);

beforeAll(async () => {
  await createAllTypes(fx.admin, { schema: fx.pgSchema });
  table = await fx.source.resolve(allTypesSpec({ schema: fx.pgSchema }));
  await fx.warehouse.bootstrap([table], 'gzip');
});

beforeEach(load);

/** One cell of each mapped type, changed in the target: target column, row id, new value. */
const TAMPERED: readonly { column: string; id: string; value: string }[] = [
  { column: 'c_text', id: '1', value: "'plain texT'" },
  { column: 'c_varchar', id: '2', value: "''" },
  { column: 'c_char', id: '3', value: "'    '" },
  { column: 'c_smallint', id: '4', value: '-32767' },
  { column: 'c_integer', id: '5', value: '2147483646' },
  { column: 'c_bigint', id: '6', value: '1' },
  { column: 'c_numeric', id: '7', value: "'-12345678901234567890.123456780'" },
  { column: 'c_numeric_scaled', id: '8', value: '1.000000001' },
  { column: 'c_real', id: '1', value: '1.5000001' },
  { column: 'c_double', id: '7', value: '1.7976931348623155e308' },
  { column: 'c_boolean', id: '8', value: 'FALSE' },
  { column: 'c_date', id: '4', value: "'0001-01-02'::DATE" },
  { column: 'c_time', id: '5', value: "'00:00:00.000002'::TIME" },
  { column: 'c_timestamp', id: '6', value: "'2000-01-01 00:00:00.000002'::TIMESTAMP_NTZ" },
  { column: 'c_timestamptz', id: '8', value: "'2024-12-31 12:34:56.788'::TIMESTAMP_TZ" },
  { column: 'c_interval', id: '3', value: "'PT1S'" },
  { column: 'c_uuid', id: '4', value: "'fffffffe-ffff-ffff-ffff-ffffffffffff'" },
  { column: 'c_json', id: '5', value: '\'[1, "two", {"three": 4}]\'' },
  { column: 'c_bytea', id: '6', value: "'\\\\x0d0b'" },
  { column: 'c_int_array', id: '7', value: "PARSE_JSON('[1]')" },
  { column: 'c_text_array', id: '1', value: 'PARSE_JSON(\'["a,b","c\\\\"d",null,"","é","NULl"]\')' },
  { column: 'c_enum', id: '2', value: "'ok'" },
  { column: 'updated_at', id: '3', value: "'2024-01-15 08:30:02.000001'::TIMESTAMP_TZ" },
];

describe('value reconciliation over the all-types fixture', () => {
  it('finds no difference when the target holds what was loaded, for every compared type', async () => {
    const result = await compare();
    expect(isEqual(result)).toBe(true);
    expect(result.sourceRows).toBe(8);
    expect(result.targetRows).toBe(8);
    expect(result.levels).toBe(1);
    // jsonb, as a VARIANT, has no canonical form yet: named as not compared rather than silently passed.
    expect(result.skipped).toEqual(['c_jsonb']);
    expect(result.columns).toHaveLength(24);
  });

  it('finds one changed cell of each mapped type, with its key and column', async () => {
    for (const t of TAMPERED) {
      await exec(
        fx.reader,
        `UPDATE ${table.targetName} SET ${t.column.toUpperCase()} = ${t.value} WHERE ID = ${t.id}`,
      );
    }
    const result = await compare();
    expect(result.missing).toEqual([]);
    expect(result.extra).toEqual([]);
    const found = result.differing.flatMap((d) => d.columns.map((c) => `${d.key.join(',')}:${c}`)).sort();
    expect(found).toEqual(TAMPERED.map((t) => `${t.id}:${t.column}`).sort());
  });

  it('finds keys missing from the target and keys only the target holds', async () => {
    await exec(fx.reader, `DELETE FROM ${table.targetName} WHERE ID IN (2, 5)`);
    await exec(
      fx.reader,
      `INSERT INTO ${table.targetName} (ID, UPDATED_AT) VALUES (9, '2024-01-15 08:30:09'::TIMESTAMP_TZ)`,
    );
    const result = await compare();
    expect(result.missing).toEqual([['2'], ['5']]);
    expect(result.extra).toEqual([['9']]);
    expect(result.differing).toEqual([]);
    const keys = await compare({ keysOnly: true });
    expect(keys.missing).toEqual([['2'], ['5']]);
    expect(keys.extra).toEqual([['9']]);
  });
});

describe('tally reconcile', () => {
  const dir = scratchFolder('tally-reconcile');
  const configFile = async () => {
    const base = localConfig(inject('stack'), [
      { schema: fx.pgSchema, name: 'all_types', primaryKey: ['id'], cursorColumn: 'updated_at' },
    ]);
    const path = dir.file('config.json');
    await writeConfigFile(path, { ...base, s3: fx.s3, snowflake: fx.sfConfig });
    return path;
  };

  it('reports equal values with exit code 0, and a changed cell by key and column with exit code 1', async () => {
    const path = await configFile();
    const equal = await tally('reconcile', '--table', `${fx.pgSchema}.all_types`, '--config', path);
    expect(equal.code).toBe(0);
    expect(equal.stdout).toMatch(/: equal\n/);
    expect(equal.stderr).toContain('level 1:');
    await exec(fx.reader, `UPDATE ${table.targetName} SET C_TEXT = 'changed' WHERE ID = 4`);
    const changed = await tally(
      'reconcile',
      '--table',
      'all_types',
      '--window',
      '2024-01-15T08:30:03Z,2024-01-15T08:30:04Z',
      '--config',
      path,
    );
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('DIFFERENT');
    expect(changed.stdout).toContain('rows: 1 in PostgreSQL, 1 in Snowflake');
    expect(changed.stdout).toContain('differs:              (id)=(4) in c_text');
  });

  it('refuses a window it cannot read with exit code 2, naming it', async () => {
    const path = await configFile();
    const bad = await tally('reconcile', '--table', 'all_types', '--window', 'yesterday', '--config', path);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--window yesterday: give two bounds, FROM,TO');
    const unknown = await tally('reconcile', '--table', 'nope', '--config', path);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--table nope is not a configured table');
  });
});

describe('bisection over many rows', () => {
  it('splits only the differing segments, down to the changed keys', async () => {
    await insertGeneratedRows(fx.admin, 1000, 3000, { schema: fx.pgSchema });
    await load();
    const equal = await compare();
    expect(isEqual(equal)).toBe(true);
    expect(equal.sourceRows).toBe(3008);
    await exec(
      fx.reader,
      `UPDATE ${table.targetName} SET C_INTEGER = C_INTEGER + 1 WHERE ID IN (1500, 2500)`,
    );
    const progress: string[] = [];
    const result = await compare({ leafRows: 4, onProgress: (m: string) => progress.push(m) });
    expect(result.differing).toEqual([
      { key: ['1500'], columns: ['c_integer'] },
      { key: ['2500'], columns: ['c_integer'] },
    ]);
    // More than one level, and far fewer checksums than rows.
    expect(result.levels).toBeGreaterThan(1);
    expect(result.checksumsCompared).toBeLessThan(600);
    expect(progress.length).toBeGreaterThan(1);
  });
});
