// The split of a chunked historical load from PostgreSQL's statistics, against a real PostgreSQL: for each
// leading key type Tally splits, the analyzed table's histogram gives ranges that together count every
// row exactly once; text bounds come in the column's own collation, not byte order; a table never
// analyzed, or a key of a type Tally does not split, loads in one piece and says why.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { checkTiling, keyRanges } from '../../lambdas/domain/chunks';
import { freshDatabase, pgClient, pgConfig } from '../support/postgres';

const ROWS = 400;

let admin: pg.Client;
let source: PostgresSource;

beforeAll(async () => {
  const url = await freshDatabase('chunk_key_stats_test');
  admin = await pgClient(url);
  source = new PostgresSource(pgConfig({ url }));
});

afterAll(async () => {
  await source?.close();
  await admin?.end();
});

/** A table keyed on `key` of `type`, holding ROWS rows whose key is `value` of the row number `n`. */
async function keyedTable(name: string, type: string, value: string, analyze = true) {
  await admin.query(
    `CREATE TABLE ${name} (key ${type} PRIMARY KEY, n int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  await admin.query(`INSERT INTO ${name} (key, n) SELECT ${value}, n FROM generate_series(1, ${ROWS}) AS n`);
  if (analyze) await admin.query(`ANALYZE ${name}`);
  return source.resolve({ schema: 'public', name, primaryKey: ['key'], cursorColumn: 'updated_at' });
}

const TYPES: readonly (readonly [string, string])[] = [
  ['int2', '(n * 3)::int2'],
  ['int4', 'n * 7 - 1000'],
  ['int8', '(n::int8 << 40) - 5'],
  ['numeric(12,3)', 'n / 7.0'],
  ['text', 'md5(n::text)'],
  ['varchar(40)', "'v' || md5(n::text)"],
  ['char(12)', "lpad(n::text, 12, 'x')"],
  ['uuid', 'md5(n::text)::uuid'],
  ['date', "date '2001-01-01' + n * 3"],
  ['timestamp', "timestamp '2020-02-29 12:00' + n * interval '7 minutes 0.25 seconds'"],
  ['timestamptz', "timestamptz '2020-02-29 12:00+05' - n * interval '1 day 3 hours'"],
];

describe('the split of a chunked load from the key statistics', () => {
  it.each(TYPES)('splits a %s key into ranges that count every row once', async (type, value) => {
    const name = `keyed_${type.replace(/\W+/g, '_')}`;
    const table = await keyedTable(name, type, value);
    const stats = await source.keyStats(table);
    expect(stats.kind).toBe('stats');
    const ranges = keyRanges(stats, 100);
    checkTiling(ranges);
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    const counts = await Promise.all(ranges.map((range) => source.count(table, { kind: 'keys', range })));
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ROWS);
    // The chunks are about the size asked for: none more than twice it.
    expect(Math.max(...counts)).toBeLessThanOrEqual(200);
  });

  it('orders text bounds in the column’s collation, not byte order, and its ranges still count every row once', async () => {
    const collations = (
      await admin.query<{ name: string }>(
        `SELECT collname AS name FROM pg_collation WHERE collname IN ('und-x-icu', 'en-US-x-icu', 'en_US.utf8', 'en_US') ORDER BY collname LIMIT 1`,
      )
    ).rows;
    expect(collations.length, 'PostgreSQL has a linguistic collation').toBe(1);
    const collation = collations[0]?.name as string;
    // Upper- and lower-case words alternate: byte order puts every capital first, a linguistic one does not.
    const table = await keyedTable(
      'keyed_collated',
      `text COLLATE "${collation}"`,
      "CASE WHEN n % 2 = 0 THEN 'Word' ELSE 'word' END || lpad(n::text, 4, '0')",
    );
    const stats = await source.keyStats(table);
    if (stats.kind !== 'stats') throw new Error(`no statistics: ${stats.reason}`);
    const values = stats.points.map((p) => p.value);
    const { rows } = await admin.query<{ v: string }>(
      `SELECT v FROM unnest($1::text[]) AS v ORDER BY v COLLATE "${collation}"`,
      [values],
    );
    expect(values).toEqual(rows.map((r) => r.v));
    expect(values).not.toEqual([...values].sort());
    const ranges = keyRanges(stats, 100);
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    const counts = await Promise.all(ranges.map((range) => source.count(table, { kind: 'keys', range })));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ROWS);
  });

  it('loads a table never analyzed in one piece, saying to run ANALYZE', async () => {
    const table = await keyedTable('keyed_fresh', 'int8', 'n', false);
    const stats = await source.keyStats(table);
    expect(stats).toEqual({
      kind: 'none',
      reason: expect.stringMatching(/never analyzed.*run ANALYZE public\.keyed_fresh/),
    });
    expect(keyRanges(stats, 10)).toEqual([{ from: null, to: null }]);
  });

  it('loads a table whose leading key column has a type Tally does not split in one piece, saying why', async () => {
    const table = await keyedTable('keyed_bytes', 'bytea', "decode(md5(n::text), 'hex')");
    expect(await source.keyStats(table)).toEqual({
      kind: 'none',
      reason: expect.stringMatching(/"key", has type bytea, which Tally does not split/),
    });
  });
});
