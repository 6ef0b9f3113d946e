// The upper bound PostgresSource chooses for a window open above: below every transaction still in
// flight, exact to the microsecond, lagging the clock when asked, and refused when it cannot be known.
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { createS3Client, S3Stage } from '../../lambdas/adapters/s3';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { epochMicros } from '../../lambdas/domain/window';
import type { ExportResult } from '../../lambdas/ports';
import {
  freshDatabase,
  pgClient,
  pgConfig,
  readParts,
  recordsAsObjects,
  s3Config,
} from '../support/postgres';

// A database of its own: the bound waits for every transaction open in its database.
const DATABASE = 'window_bound_test';
const SCHEMA = 'window_bound_test';
const WEAK_ROLE = 'tally_window_bound_weak';
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

let url: string;
let admin: pg.Client;
let source: PostgresSource;
let stage: S3Stage;
let items: ResolvedTable;
let counters: ResolvedTable;
const s3 = createS3Client(s3Config());

beforeAll(async () => {
  url = await freshDatabase(DATABASE);
  admin = await pgClient(url);
  await admin.query(`
    CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
    DROP TABLE IF EXISTS ${SCHEMA}.items, ${SCHEMA}.counters;
    CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE ${SCHEMA}.counters (id int PRIMARY KEY, version bigint NOT NULL);
    DROP TABLE IF EXISTS ${SCHEMA}.sequenced;
    CREATE TABLE ${SCHEMA}.sequenced (id int PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY);
  `);
  source = new PostgresSource(pgConfig({ url }));
  stage = new S3Stage(s3Config());
  items = await source.resolve({
    schema: SCHEMA,
    name: 'items',
    primaryKey: ['id'],
    cursorColumn: 'updated_at',
  });
  counters = await source.resolve({
    schema: SCHEMA,
    name: 'counters',
    primaryKey: ['id'],
    cursorColumn: 'version',
  });
});

beforeEach(async () => {
  await admin.query(`TRUNCATE ${SCHEMA}.items, ${SCHEMA}.counters`);
});

afterAll(async () => {
  await source?.close();
  await admin?.end();
});

let exports = 0;
async function exportOpen(
  table: ResolvedTable,
  from: string | null,
  options: { lagMs?: number; settleMs?: number } = {},
): Promise<{ result: ExportResult; ids: string[] }> {
  exports += 1;
  const result = await source.export(table, { kind: 'window', window: { from, to: null } }, stage, {
    keyPrefix: `window-bound-test/${table.name}/${exports}`,
    ...options,
  });
  const records = recordsAsObjects(
    await readParts(
      s3,
      stage.bucket,
      result.files.map((f) => f.key),
    ),
  );
  return { result, ids: records.map((r) => r.id ?? '').sort() };
}

async function databaseNow(): Promise<bigint> {
  const { rows } = await admin.query<{ t: string }>(
    `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`,
  );
  return epochMicros(rows[0]?.t ?? '') ?? 0n;
}

describe('the upper bound of a timestamp window open above', () => {
  it('keeps a row of a long transaction that commits after the export out of that window and puts it in the next', async () => {
    const late = await pgClient(url);
    try {
      const latePid = (await late.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await late.query('BEGIN');
      await late.query(`INSERT INTO ${SCHEMA}.items (id, v) VALUES (1, 'early stamp, late commit')`);
      // Committed after the long transaction began, so stamped above its start.
      await admin.query(`INSERT INTO ${SCHEMA}.items (id, v) VALUES (2, 'committed')`);

      const first = await exportOpen(items, null);
      const lateStart = (
        await admin.query<{ t: string }>(
          `SELECT to_char(xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM pg_stat_activity WHERE pid = $1`,
          [latePid],
        )
      ).rows[0]?.t;
      expect(first.result.upper).toBe(lateStart);
      expect(first.ids).toEqual([]);

      await late.query('COMMIT');
      const second = await exportOpen(items, first.result.upper ?? null);
      expect(second.ids).toEqual(['1', '2']);
      expect(epochMicros(second.result.upper ?? '')).toBeGreaterThan(
        epochMicros(first.result.upper ?? '') ?? 0n,
      );
    } finally {
      await late.end();
    }
  });

  it('waits for a transaction that has not written anything yet, since it may still write with its early clock', async () => {
    const idle = await pgClient(url);
    try {
      // Open but idle: no transaction id and no snapshot yet, only a start time.
      await idle.query('BEGIN');
      await admin.query(`INSERT INTO ${SCHEMA}.items (id, v) VALUES (3, 'committed')`);
      const first = await exportOpen(items, null);
      await idle.query(`INSERT INTO ${SCHEMA}.items (id, v) VALUES (4, 'written after the export began')`);
      await idle.query('COMMIT');
      const stamped = await admin.query<{ id: number }>(
        `SELECT id FROM ${SCHEMA}.items WHERE updated_at < $1::timestamptz`,
        [first.result.upper],
      );
      expect(stamped.rows).toEqual([]);
      expect(first.ids).toEqual([]);
      const second = await exportOpen(items, first.result.upper ?? null);
      expect(second.ids).toEqual(['3', '4']);
    } finally {
      await idle.end();
    }
  });

  it('is exact to the microsecond: a later count of the same bounds agrees, and a row at the bound is outside', async () => {
    await admin.query(`INSERT INTO ${SCHEMA}.items (id, v) SELECT g, 'seed' FROM generate_series(10, 14) g`);
    const { result } = await exportOpen(items, null);
    const upper = result.upper ?? '';
    expect(upper).toMatch(ISO_MICROS);
    expect(result.rows).toBe(5);
    const bounded = { kind: 'window', window: { from: null, to: upper } } as const;
    expect(await source.count(items, bounded)).toBe(5);

    await admin.query(
      `INSERT INTO ${SCHEMA}.items (id, v, updated_at) VALUES
         (20, 'just below', $1::timestamptz - interval '1 microsecond'), (21, 'at the bound', $1::timestamptz)`,
      [upper],
    );
    expect(await source.count(items, bounded)).toBe(6);
    const next = await exportOpen(items, upper);
    expect(next.ids).toEqual(['21']);
  });

  it('stays the lag below the database clock', async () => {
    await admin.query(
      `INSERT INTO ${SCHEMA}.items (id, v, updated_at) VALUES (30, 'old', now() - interval '2 minutes'), (31, 'recent', now() - interval '30 seconds')`,
    );
    const before = await databaseNow();
    const { result, ids } = await exportOpen(items, null, { lagMs: 60_000 });
    const after = await databaseNow();
    const upper = epochMicros(result.upper ?? '') ?? 0n;
    expect(upper).toBeGreaterThanOrEqual(before - 60_000_000n);
    expect(upper).toBeLessThanOrEqual(after - 60_000_000n);
    expect(ids).toEqual(['30']);
  });

  it('refuses a lag that is not a whole number of milliseconds, 0 or more', async () => {
    await expect(exportOpen(items, null, { lagMs: -1 })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(exportOpen(items, null, { lagMs: 1.5 })).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
  });

  it('is refused, naming the grant, when the user cannot see the other sessions of the database', async () => {
    // A role left by an interrupted run owns grants in an older database of the same name: drop it.
    await admin.query(`DROP ROLE IF EXISTS ${WEAK_ROLE}`);
    await admin.query(`CREATE ROLE ${WEAK_ROLE} LOGIN PASSWORD 'weak-password'`);
    await admin.query(
      `GRANT USAGE ON SCHEMA ${SCHEMA} TO ${WEAK_ROLE}; GRANT SELECT ON ${SCHEMA}.items TO ${WEAK_ROLE}`,
    );
    const weak = new PostgresSource(pgConfig({ url, user: WEAK_ROLE, password: 'weak-password' }));
    try {
      const attempt = weak.export(items, { kind: 'window', window: { from: null, to: null } }, stage, {
        keyPrefix: 'window-bound-test/weak',
      });
      await expect(attempt).rejects.toMatchObject({
        name: 'SourceAuthError',
        message: expect.stringMatching(/pg_stat_activity.*GRANT pg_read_all_stats TO that user/),
      });
      expect(await stage.list('window-bound-test/weak/')).toEqual([]);

      await admin.query(`GRANT pg_read_all_stats TO ${WEAK_ROLE}`);
      const granted = await weak.export(items, { kind: 'window', window: { from: null, to: null } }, stage, {
        keyPrefix: 'window-bound-test/weak',
      });
      expect(granted.upper).toMatch(ISO_MICROS);
    } finally {
      await weak.close();
      await admin.query(`DROP OWNED BY ${WEAK_ROLE} CASCADE; DROP ROLE IF EXISTS ${WEAK_ROLE}`);
    }
  });
});

describe('the upper bound of a date window open above', () => {
  it('is the start of the current day in UTC, so the day still being written goes to a later window', async () => {
    await admin.query(`
      DROP TABLE IF EXISTS ${SCHEMA}.days;
      CREATE TABLE ${SCHEMA}.days (id int PRIMARY KEY, day date NOT NULL);
      INSERT INTO ${SCHEMA}.days VALUES (1, (now() AT TIME ZONE 'UTC')::date - 1), (2, (now() AT TIME ZONE 'UTC')::date);
    `);
    const days = await source.resolve({
      schema: SCHEMA,
      name: 'days',
      primaryKey: ['id'],
      cursorColumn: 'day',
    });
    const today = (
      await admin.query<{ d: string }>(`SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS d`)
    ).rows[0]?.d;
    const { result, ids } = await exportOpen(days, null);
    expect(result.upper).toBe(`${today}T00:00:00.000000Z`);
    expect(ids).toEqual(['1']);
  });
});

describe('the upper bound of an integer window open above', () => {
  it('is one past the largest value in the snapshot', async () => {
    await admin.query(`INSERT INTO ${SCHEMA}.counters VALUES (1, 5), (2, 41), (3, 4)`);
    const { result, ids } = await exportOpen(counters, '5');
    expect(result.upper).toBe('42');
    expect(ids).toEqual(['1', '2']);
  });

  it('is the window start when nothing reaches it, and absent when the table is empty and the window open below', async () => {
    await expect(exportOpen(counters, null)).resolves.toMatchObject({ result: { rows: 0 }, ids: [] });
    expect((await exportOpen(counters, null)).result.upper).toBeUndefined();
    await admin.query(`INSERT INTO ${SCHEMA}.counters VALUES (1, 5)`);
    const { result, ids } = await exportOpen(counters, '100');
    expect(result.upper).toBe('100');
    expect(ids).toEqual([]);
  });

  it('waits for a transaction that drew a smaller value and commits late, and then includes its row', async () => {
    const sequenced = await source.resolve({
      schema: SCHEMA,
      name: 'sequenced',
      primaryKey: ['id'],
      cursorColumn: 'seq',
    });
    const slow = await pgClient(url);
    try {
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO ${SCHEMA}.sequenced (id) VALUES (1)`);
      await admin.query(`INSERT INTO ${SCHEMA}.sequenced (id) VALUES (2)`);

      await expect(exportOpen(sequenced, null, { settleMs: 200 })).rejects.toMatchObject({
        name: 'SourceUnavailableError',
        message: expect.stringMatching(/1 transaction\(s\) open .* did not end within 200 ms/),
      });

      // Committed while the export waits: without the wait, value 2 would set the bound to 3 and the
      // snapshot would miss value 1 for good.
      const exporting = exportOpen(sequenced, null, { settleMs: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await slow.query('COMMIT');
      const { result, ids } = await exporting;
      expect(result.upper).toBe('3');
      expect(ids).toEqual(['1', '2']);
    } finally {
      await slow.end();
    }
  });
});
