// Property: for any interleaving of inserts, updates, commits and rollbacks in concurrent transactions,
// with delays, and any sequence of incremental runs through PostgresSource.export, the merged target
// never misses a row below a run's upper bound and equals the source after a final run. Checked for a
// timestamp cursor stamped by the writing transaction's clock and for an integer cursor from a sequence.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { createS3Client, S3Stage } from '../../lambdas/adapters/s3';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { epochMicros, nextWindow } from '../../lambdas/domain/window';
import type { ExportResult } from '../../lambdas/ports';
import {
  freshDatabase,
  pgClient,
  pgConfig,
  readParts,
  recordsAsObjects,
  s3Config,
} from '../support/postgres';

// A database of its own: the bound waits for every transaction open in its database, so other files'
// writers would only hold it back (never make it unsafe), but the final comparison needs it to advance.
const DATABASE = 'window_safety_test';
const SCHEMA = 'window_safety';
const TABLE = `${SCHEMA}.rows`;
const MAX_CONNECTIONS = 4;

/** How a write stamps the cursor: its transaction's start, the statement's clock, or a trigger's now(). */
type Stamp = 'now' | 'clock' | 'trigger';
const STAMP_SQL: Record<Stamp, string> = { now: 'now()', clock: 'clock_timestamp()', trigger: 'NULL' };

type Action =
  | { readonly kind: 'begin' | 'commit' | 'rollback'; readonly conn: number }
  | { readonly kind: 'insert'; readonly conn: number; readonly value: number; readonly stamp: Stamp }
  | {
      readonly kind: 'update';
      readonly conn: number;
      readonly pick: number;
      readonly value: number;
      readonly stamp: Stamp;
    }
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'run' };

interface History {
  readonly connections: number;
  /** The pipeline's `lookbackSeconds` (an integer cursor has none: its windows start at the watermark). */
  readonly lookbackSeconds: number;
  readonly actions: readonly Action[];
}

const conn = fc.nat({ max: MAX_CONNECTIONS - 1 });
const stamp = fc.constantFrom<Stamp>('now', 'clock', 'trigger');
const value = fc.integer({ min: -1000, max: 1000 });
// Commits are rarer than writes, so transactions often stay open across several runs.
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('begin' as const), conn }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), conn, value, stamp }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('update' as const), conn, pick: fc.nat(), value, stamp }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), conn }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollback' as const), conn }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 4 }) }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'run' as const }) },
);
const history: fc.Arbitrary<History> = fc.record({
  connections: fc.integer({ min: 2, max: MAX_CONNECTIONS }),
  lookbackSeconds: fc.constantFrom(0, 0, 1),
  actions: fc.array(action, { minLength: 5, maxLength: 20 }),
});

/** A row as the target holds it: every column, the timestamp as microseconds. */
interface Version {
  readonly v: string;
  readonly updatedAt: bigint;
  readonly version: bigint;
}

type CursorColumn = 'updated_at' | 'version';

let url: string;
let admin: pg.Client;
let writers: pg.Client[];
let source: PostgresSource;
let stage: S3Stage;
const tables = new Map<CursorColumn, ResolvedTable>();
const s3 = createS3Client(s3Config());

beforeAll(async () => {
  url = await freshDatabase(DATABASE);
  admin = await pgClient(url);
  await admin.query(`
    CREATE SCHEMA ${SCHEMA};
    CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL);
    CREATE SEQUENCE ${SCHEMA}.versions;
    CREATE FUNCTION ${SCHEMA}.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.updated_at IS NULL THEN NEW.updated_at := now(); END IF;
        NEW.version := nextval('${SCHEMA}.versions');
        RETURN NEW;
      END $$;
    CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON ${TABLE} FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.stamp();
  `);
  writers = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => pgClient(url)));
  // Writers never wait for each other's locks (see `update`); a bug that made one wait fails fast.
  await Promise.all(writers.map((w) => w.query("SET lock_timeout = '5s'")));
  source = new PostgresSource(pgConfig({ url }));
  stage = new S3Stage(s3Config());
  for (const cursorColumn of ['updated_at', 'version'] as const) {
    tables.set(
      cursorColumn,
      await source.resolve({ schema: SCHEMA, name: 'rows', primaryKey: ['id'], cursorColumn }),
    );
  }
});

afterAll(async () => {
  await source?.close();
  await Promise.all((writers ?? []).map((w) => w.end()));
  await admin?.end();
});

/** Microseconds since the epoch as UTC ISO 8601 text with six fraction digits. */
function isoMicros(us: bigint): string {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const sub = us - ms * 1000n;
  return new Date(Number(ms)).toISOString().replace('Z', `${String(sub).padStart(3, '0')}Z`);
}

function micros(text: string | null | undefined): bigint {
  const us = epochMicros(text ?? '');
  if (us === null) throw new Error(`not a timestamp: ${text}`);
  return us;
}

/** The committed source table, by primary key. */
async function sourceRows(): Promise<Map<string, Version>> {
  const { rows } = await admin.query<{ id: string; v: string; t: string; version: string }>(
    `SELECT id::text, v::text, version::text,
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t
     FROM ${TABLE}`,
  );
  return new Map(rows.map((r) => [r.id, { v: r.v, updatedAt: micros(r.t), version: BigInt(r.version) }]));
}

function cursorOf(row: Version, column: CursorColumn): bigint {
  return column === 'updated_at' ? row.updatedAt : row.version;
}

function boundValue(bound: string, column: CursorColumn): bigint {
  return column === 'updated_at' ? micros(bound) : BigInt(bound);
}

/**
 * One incremental run: export the window Plan would plan (`nextWindow`, the pipeline's own rule) through
 * the adapter into the S3 stand-in, read the files back and merge them by primary key as the warehouse
 * MERGE does (a matched row takes the loaded version unless that would move its cursor backwards).
 * Returns the bound the export chose, or null when there is none yet: the source refused to choose one
 * (an integer cursor while transactions are open), or the table is empty.
 */
async function run(
  model: Map<string, Version>,
  column: CursorColumn,
  lastUpper: string | null,
  lookbackSeconds: number,
  n: number,
): Promise<string | null> {
  const table = tables.get(column);
  if (!table) throw new Error(`table with cursor ${column} not resolved`);
  const window = nextWindow(lastUpper, table.cursorKind, lookbackSeconds);
  let result: ExportResult;
  try {
    result = await source.export(table, { kind: 'window', window }, stage, {
      keyPrefix: `window-safety/run-${n}`,
      compression: { codec: 'gzip', level: 1 },
      settleMs: 0,
    });
  } catch (err) {
    if (column === 'version' && (err as Error).name === 'SourceUnavailableError') return null;
    throw err;
  }
  const records = recordsAsObjects(
    await readParts(
      s3,
      stage.bucket,
      result.files.map((f) => f.key),
    ),
  );
  for (const r of records) {
    const loaded = { v: r.v ?? '', updatedAt: micros(r.updated_at), version: BigInt(r.version ?? '') };
    const held = model.get(r.id ?? '');
    if (held === undefined || cursorOf(loaded, column) >= cursorOf(held, column))
      model.set(r.id ?? '', loaded);
  }
  if (result.upper === undefined) {
    if (column === 'version' && records.length === 0 && window.from === null) return null;
    throw new Error('an open window must report its upper bound');
  }
  return result.upper;
}

/** Every committed row below the bound is in the model exactly as the source holds it now. */
async function expectNothingLostBelow(
  model: Map<string, Version>,
  column: CursorColumn,
  upper: string,
): Promise<void> {
  const bound = boundValue(upper, column);
  const show = (r: Version) => `${r.v}@${isoMicros(r.updatedAt)}#${r.version}`;
  const missing: string[] = [];
  for (const [id, row] of await sourceRows()) {
    if (cursorOf(row, column) >= bound) continue;
    const held = model.get(id);
    if (held === undefined || show(held) !== show(row)) {
      missing.push(`${id}: source ${show(row)}, target ${held ? show(held) : 'none'}`);
    }
  }
  expect(missing, `rows below the upper bound ${upper} missing from the target`).toEqual([]);
}

async function replay(h: History, column: CursorColumn): Promise<void> {
  const model = new Map<string, Version>();
  const open = new Array<boolean>(MAX_CONNECTIONS).fill(false);
  const inserted: number[] = [];
  const nextKey = new Array<number>(MAX_CONNECTIONS).fill(0);
  let lastUpper: string | null = null;
  let runs = 0;
  const runAndCheck = async () => {
    const upper = await run(model, column, lastUpper, h.lookbackSeconds, runs++);
    if (upper === null) return;
    lastUpper = upper;
    await expectNothingLostBelow(model, column, upper);
  };
  try {
    for (const a of h.actions) {
      if (a.kind === 'sleep') {
        await new Promise((resolve) => setTimeout(resolve, a.ms));
        continue;
      }
      if (a.kind === 'run') {
        await runAndCheck();
        continue;
      }
      const c = a.conn % h.connections;
      const w = writers[c];
      if (!w) throw new Error(`no writer ${c}`);
      switch (a.kind) {
        case 'begin':
          if (!open[c]) await w.query('BEGIN');
          open[c] = true;
          break;
        case 'commit':
        case 'rollback':
          if (open[c]) await w.query(a.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
          open[c] = false;
          break;
        case 'insert': {
          // Keys are disjoint per connection, so two open transactions never insert the same key.
          const id = (nextKey[c] ?? 0) * MAX_CONNECTIONS + c;
          nextKey[c] = (nextKey[c] ?? 0) + 1;
          inserted.push(id);
          await w.query(`INSERT INTO ${TABLE} (id, v, updated_at) VALUES ($1, $2, ${STAMP_SQL[a.stamp]})`, [
            id,
            a.value,
          ]);
          break;
        }
        case 'update': {
          const id = inserted.length === 0 ? 0 : (inserted[a.pick % inserted.length] ?? 0);
          // A row another open transaction holds is skipped instead of waited for, so the driver never
          // blocks on a lock that only a later action would release.
          await w.query(
            `UPDATE ${TABLE} SET v = $2, updated_at = ${STAMP_SQL[a.stamp]}
             WHERE id = (SELECT id FROM ${TABLE} WHERE id = $1 FOR UPDATE SKIP LOCKED)`,
            [id, a.value],
          );
          break;
        }
      }
    }
    for (let c = 0; c < h.connections; c++) {
      if (open[c]) await writers[c]?.query('COMMIT');
      open[c] = false;
    }
    await runAndCheck();
    const target = [...model].sort(([a], [b]) => Number(a) - Number(b));
    const expected = [...(await sourceRows())].sort(([a], [b]) => Number(a) - Number(b));
    expect(target).toEqual(expected);
  } finally {
    for (let c = 0; c < MAX_CONNECTIONS; c++) if (open[c]) await writers[c]?.query('ROLLBACK');
    await admin.query(`TRUNCATE ${TABLE}`);
  }
}

describe('incremental windows on a live table', () => {
  it('never lose a row, and leave the target equal to the source, for any interleaving of transactions and runs on a timestamp cursor', async () => {
    await fc.assert(
      fc.asyncProperty(history, (h) => replay(h, 'updated_at')),
      { numRuns: 200 },
    );
  }, 180_000);

  it('never lose a row, and leave the target equal to the source, for any interleaving of transactions and runs on a sequence cursor', async () => {
    await fc.assert(
      fc.asyncProperty(history, (h) => replay(h, 'version')),
      { numRuns: 100 },
    );
  }, 180_000);
});
