// Values that a real Snowflake account would corrupt or refuse, run through the whole pipeline (what
// `tally run` executes): text PostgreSQL writes unquoted with backslashes in every position, columns
// named with Snowflake reserved words and mixed case, and values no mapped Snowflake type can hold.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TableConfig, TallyConfig } from '../../lambdas/config';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import type { StateMachineDefinition } from '../../local/interpreter';
import { localConfig } from '../../local/local-config';
import { runPipeline } from '../../local/runner';
import { auditLog } from '../support/audit';
import { freshDatabase, onDatabase } from '../support/postgres';
import { connect, destroy, exec } from '../support/snowflake-client';

const stack = inject('stack');
const label = `exact_${process.pid}`;
let url: string;
let definition: StateMachineDefinition;

const TRICKY: TableConfig = {
  schema: 'public',
  name: 'tricky',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
};
const ARRAYS: TableConfig = {
  schema: 'public',
  name: 'arrays',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
};
const IMPOSSIBLE: TableConfig = {
  schema: 'public',
  name: 'impossible',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
};

/** Each row's values as PostgreSQL holds them, in the tricky table's column order. */
const TRICKY_ROWS: readonly (string | null)[][] = [
  ['C:\\temp', 'ends with \\', '\\\\server\\share', '\\N', 'a,b', 'line1\\nline2'],
  ['\\', '\\\\', 'tab\\there', 'NULL', '', '\\"quoted\\"'],
  ['plain', null, '', 'back\\slash, then comma', ' \\ ', '\\.'],
];

function configFor(tables: readonly TableConfig[]): TallyConfig {
  const base = localConfig(stack, tables, { lagSeconds: 0 });
  return {
    ...base,
    postgres: { ...base.postgres, url },
    s3: { ...base.s3, prefix: label },
    snowflake: { ...base.snowflake, schema: label.toUpperCase() },
  };
}

const run = (config: TallyConfig) =>
  runPipeline({
    config,
    input: { pipeline: 'historical' },
    definition,
    retryIntervalMs: 10,
    printAlert: () => {},
    logger: { info: () => {}, warn: () => {} },
  });

async function targetRows(sql: string): Promise<Record<string, unknown>[]> {
  const connection = await connect({ ...stack.snowflake, schema: label.toUpperCase() });
  try {
    return (await exec(connection, sql, undefined, { fetchAsString: ['Number', 'Date'] })).rows;
  } finally {
    await destroy(connection);
  }
}

beforeAll(async () => {
  url = await freshDatabase(label);
  await onDatabase(url, async (c) => {
    await c.query(`CREATE TABLE tricky (
      id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT '2024-01-01',
      "start" text, "rows" text, "order" text, "MixedCase" text, "with space" text, "values" text)`);
    for (const [i, row] of TRICKY_ROWS.entries()) {
      await c.query(
        'INSERT INTO tricky (id, "start", "rows", "order", "MixedCase", "with space", "values") VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [i + 1, ...row],
      );
    }
    await c.query(`CREATE TABLE arrays (
      id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT '2024-01-01',
      ints int[], texts text[], amounts numeric(10,2)[], instants timestamptz[], grid int[])`);
    await c.query(
      String.raw`INSERT INTO arrays (id, ints, texts, amounts, instants, grid) VALUES
        (1, '{1,NULL,-3}', '{"C:\\temp","ends with \\","\\\\server\\share","\\N",NULL,"NULL"}',
         '{1.50,NaN}', '{"2024-02-29 23:59:59.5+00"}', '{{1,2},{3,4}}'),
        (2, '{}', NULL, '{}', NULL, '{}')`,
    );
    await c.query(
      `CREATE TABLE impossible (id int PRIMARY KEY, updated_at timestamptz NOT NULL, d date, n numeric(8,2))`,
    );
    await c.query(
      `INSERT INTO impossible VALUES (1, '2024-01-01', 'infinity', 1.5), (2, '2024-01-01', '2024-02-29', 'NaN')`,
    );
  });
  definition = synthesizeDefinition(configFor([TRICKY])) as unknown as StateMachineDefinition;
}, 120_000);

afterAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

describe('values a real Snowflake would corrupt or refuse', () => {
  it('round-trips text with backslashes in every position, under columns named like reserved words or in mixed case', async () => {
    const verdict = await run(configFor([TRICKY]));
    expect(verdict.status).toBe('succeeded');
    const rows = await targetRows(
      'SELECT "START", "ROWS", "ORDER", "MixedCase", "with space", "VALUES" FROM TRICKY ORDER BY ID',
    );
    expect(rows.map((r) => Object.values(r))).toEqual(TRICKY_ROWS);
  });

  it('lands arrays as Snowflake ARRAYs of their JSON, NULL elements as null and dimensions nested', async () => {
    const verdict = await run(configFor([ARRAYS]));
    expect(verdict.status).toBe('succeeded');
    const types = await targetRows('DESCRIBE TABLE ARRAYS');
    expect(Object.fromEntries(types.map((t) => [t.name, t.type]))).toMatchObject({
      INTS: 'ARRAY',
      TEXTS: 'ARRAY',
      AMOUNTS: 'ARRAY',
      INSTANTS: 'ARRAY',
      GRID: 'ARRAY',
    });
    const rows = await targetRows('SELECT INTS, TEXTS, AMOUNTS, INSTANTS, GRID FROM ARRAYS ORDER BY ID');
    expect(rows).toEqual([
      {
        INTS: [1, null, -3],
        TEXTS: ['C:\\temp', 'ends with \\', '\\\\server\\share', '\\N', null, 'NULL'],
        // VARIANT keeps a number's value, not its text; what JSON has no number for stays a string.
        AMOUNTS: [1.5, 'NaN'],
        INSTANTS: ['2024-02-29T23:59:59.5+00:00'],
        GRID: [
          [1, 2],
          [3, 4],
        ],
      },
      { INTS: [], TEXTS: null, AMOUNTS: [], INSTANTS: null, GRID: [] },
    ]);
  });

  it('fails a table holding values no mapped type can hold by name, loading nothing, and carries them exactly as text when told to', async () => {
    const failed = await run(configFor([IMPOSSIBLE]));
    expect(failed.status).toBe('failed');
    expect(failed.alerts).toHaveLength(1);
    const events = (await auditLog(configFor([IMPOSSIBLE]))).filter(
      (e) => e.executionId === failed.executionId,
    );
    const failure = events.find((e) => e.eventType === 'failure');
    expect(failure?.errorType).toBe('UnrepresentableValueError');
    expect(failure?.errorMessage).toContain('"d" (date): 1 row(s) with infinity');
    expect(failure?.errorMessage).toContain(`"n" (numeric(8,2)): 1 row(s) with 'NaN'`);
    expect(await targetRows('SELECT COUNT(*) AS N FROM IMPOSSIBLE')).toEqual([{ N: '0' }]);

    const asText = await run(
      configFor([{ ...IMPOSSIBLE, targetName: 'IMPOSSIBLE_AS_TEXT', textColumns: ['d', 'n'] }]),
    );
    expect(asText.status).toBe('succeeded');
    expect(await targetRows('SELECT ID, D, N FROM IMPOSSIBLE_AS_TEXT ORDER BY ID')).toEqual([
      { ID: '1', D: 'infinity', N: '1.50' },
      { ID: '2', D: '2024-02-29', N: 'NaN' },
    ]);
  });

  it('loads a pre-existing target whose columns are in another order, each value into its own column', async () => {
    const reordered = { ...TRICKY, targetName: 'TRICKY_REORDERED' };
    const connection = await connect({ ...stack.snowflake, schema: label.toUpperCase() });
    try {
      await exec(connection, `CREATE SCHEMA IF NOT EXISTS ${label.toUpperCase()}`);
      await exec(
        connection,
        'CREATE TABLE TRICKY_REORDERED ("VALUES" VARCHAR, "with space" VARCHAR, "MixedCase" VARCHAR, "ORDER" VARCHAR, "ROWS" VARCHAR, "START" VARCHAR, UPDATED_AT TIMESTAMP_TZ(6) NOT NULL, ID NUMBER(38,0) NOT NULL)',
      );
    } finally {
      await destroy(connection);
    }
    const verdict = await run(configFor([reordered]));
    expect(verdict.status).toBe('succeeded');
    const rows = await targetRows(
      'SELECT "START", "ROWS", "ORDER", "MixedCase", "with space", "VALUES" FROM TRICKY_REORDERED ORDER BY ID',
    );
    expect(rows.map((r) => Object.values(r))).toEqual(TRICKY_ROWS);
  });
});
