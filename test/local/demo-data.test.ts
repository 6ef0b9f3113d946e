// The demo data against the embedded PostgreSQL: deterministic per seed, sized by the row count, and
// changed by changeDemo with rows that sort after every seeded row.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeDemo, DEMO_TABLE_NAMES, DEMO_TABLES, seedDemo } from '../../local/demo-data';

const admin = new pg.Client({ connectionString: inject('stack').postgres.url });

/** A database of its own per scenario, so that parallel test files never see these tables. */
async function freshDatabase(label: string): Promise<string> {
  const name = `demo_${label}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(inject('stack').postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

async function digests(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET TIME ZONE 'UTC'`);
    const out: Record<string, string> = {};
    for (const table of DEMO_TABLE_NAMES) {
      const { rows } = await client.query<{ digest: string }>(
        `SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) AS digest FROM ${table} t`,
      );
      out[table] = rows[0]!.digest;
    }
    return out;
  } finally {
    await client.end();
  }
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
});

describe('seedDemo', () => {
  it('gives identical content for the same seed and different content for another seed', async () => {
    const a = await freshDatabase('a');
    const b = await freshDatabase('b');
    const c = await freshDatabase('c');
    await seedDemo(a, { rows: 300, seed: 42 });
    await seedDemo(b, { rows: 300, seed: 42 });
    await seedDemo(c, { rows: 300, seed: 43 });
    const [da, db, dc] = await Promise.all([digests(a), digests(b), digests(c)]);
    expect(db).toEqual(da);
    for (const table of DEMO_TABLE_NAMES) expect(dc[table], table).not.toBe(da[table]);
  });

  it('sizes the tables by the row count and reports what it wrote', async () => {
    const url = await freshDatabase('size');
    const counts = await seedDemo(url, { rows: 500, seed: 7 });
    const [row] = await query<Record<string, string>>(
      url,
      `SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders,
              (SELECT count(*) FROM order_lines) AS order_lines, (SELECT count(*) FROM events) AS events`,
    );
    expect(counts.orders).toBe(500);
    expect(counts.events).toBe(500);
    expect(counts.customers).toBe(100);
    expect(counts.order_lines).toBeGreaterThanOrEqual(500);
    expect(counts.order_lines).toBeLessThanOrEqual(2000);
    expect(Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]))).toEqual(counts);
  });

  it('replaces an earlier demo schema instead of adding to it', async () => {
    const url = await freshDatabase('reseed');
    await seedDemo(url, { rows: 200, seed: 1 });
    await seedDemo(url, { rows: 50, seed: 1 });
    const [row] = await query<{ n: string }>(url, 'SELECT count(*) AS n FROM orders');
    expect(Number(row!.n)).toBe(50);
  });

  it('uses many PostgreSQL types and keeps NULL apart from the empty string', async () => {
    const url = await freshDatabase('types');
    await seedDemo(url, { rows: 500, seed: 3 });
    const types = await query<{ data_type: string }>(
      url,
      `SELECT DISTINCT data_type FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    expect(types.map((t) => t.data_type)).toEqual(
      expect.arrayContaining([
        'bigint',
        'integer',
        'text',
        'numeric',
        'boolean',
        'date',
        'timestamp with time zone',
        'jsonb',
        'uuid',
        'USER-DEFINED',
        'ARRAY',
        'interval',
        'double precision',
        'real',
        'bytea',
      ]),
    );
    const [notes] = await query<{ nulls: string; empties: string; newlines: string }>(
      url,
      `SELECT count(*) FILTER (WHERE notes IS NULL) AS nulls, count(*) FILTER (WHERE notes = '') AS empties,
              count(*) FILTER (WHERE notes LIKE E'%\\n%') AS newlines FROM customers`,
    );
    expect(Number(notes!.nulls)).toBeGreaterThan(0);
    expect(Number(notes!.empties)).toBeGreaterThan(0);
    expect(Number(notes!.newlines)).toBeGreaterThan(0);
  });

  it('declares each demo table with its primary key and updated_at cursor', async () => {
    const url = await freshDatabase('keys');
    await seedDemo(url, { rows: 10, seed: 1 });
    const keys = await query<{ table_name: string; column_name: string }>(
      url,
      `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
       WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' ORDER BY 1`,
    );
    expect(keys.map((k) => [k.table_name, k.column_name])).toEqual(
      DEMO_TABLES.map((t) => [t.name, t.primaryKey[0]]).sort(),
    );
    expect(DEMO_TABLES.every((t) => t.cursorColumn === 'updated_at')).toBe(true);
  });
});

describe('changeDemo', () => {
  it('inserts and updates rows in every table with an updated_at later than any seeded row', async () => {
    const url = await freshDatabase('change');
    const seeded = await seedDemo(url, { rows: 400, seed: 5 });
    const [before] = await query<{ max: Date }>(url, 'SELECT max(updated_at) AS max FROM events');
    const changes = await changeDemo(url, { seed: 5 });
    for (const table of DEMO_TABLE_NAMES) {
      expect(changes.inserted[table], table).toBeGreaterThan(0);
      expect(changes.updated[table], table).toBeGreaterThan(0);
      const [row] = await query<{ total: string; changed: string }>(
        url,
        `SELECT count(*) AS total, count(*) FILTER (WHERE updated_at > '${before!.max.toISOString()}') AS changed
         FROM ${table}`,
      );
      expect(Number(row!.total), table).toBe(seeded[table] + changes.inserted[table]);
      expect(Number(row!.changed), table).toBe(changes.inserted[table] + changes.updated[table]);
    }
  });
});
