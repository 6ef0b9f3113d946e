// Shared setup of the fault scenarios: a Snowflake stand-in of this test file's own (so statement faults
// can be set in-process), TCP proxies in front of PostgreSQL, S3 and that stand-in, and per scenario a
// fresh database, S3 prefix and Snowflake schema, runs of the synthesized state machine with the
// configuration pointing through the proxies, and whole-table comparisons read around them. Faults are
// injected at the network (proxies), at a statement (the stand-in's hook), or at a port (`wrapping`).
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ulid } from 'ulid';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { closeSnowflakeConnections } from '../../../lambdas/adapters/snowflake';
import type { PipelineConfig, TallyConfig } from '../../../lambdas/config';
import { type AuditEvent, verifyChain } from '../../../lambdas/domain/audit';
import type { ExecutionInput } from '../../../lambdas/steps/contract';
import { synthesizeDefinition } from '../../../lib/synthesize-definition';
import type { StateMachineDefinition } from '../../../local/interpreter';
import { localConfig } from '../../../local/local-config';
import { type Progress, type RunPipelineOptions, runPipeline, type Verdict } from '../../../local/runner';
import { type LocalSnowflake, startSnowflake } from '../../../local/snowflake';
import { auditLog as readAuditLog } from '../audit';
import { onDatabase } from '../postgres';
import { connect, destroy, exec } from '../snowflake-client';
import { StatementFaults } from './statement-faults';
import { TcpProxy } from './tcp-proxy';

export const TABLE = 'public.items';

/**
 * The scenario table's primary key: a single bigint `id`, or a composite key led by a text column
 * `code` (`item-000001`, ...; ordered as `id` is, in any collation) and then `id`.
 */
export type KeyShape = 'bigint' | 'composite';

/** The value of the leading key column of row `id` in a table of this key shape, as PostgreSQL writes it. */
export function leadingKey(shape: KeyShape, id: number): string {
  return shape === 'bigint' ? String(id) : `item-${String(id).padStart(6, '0')}`;
}

const stack = inject('stack');
let synthesized: StateMachineDefinition | undefined;

/** The servers and proxies one test file shares; scenarios in a file run one after another. */
export interface FaultRig {
  readonly snowflake: LocalSnowflake;
  readonly statements: StatementFaults;
  readonly postgres: TcpProxy;
  readonly s3: TcpProxy;
  readonly warehouse: TcpProxy;
  /** Clears every fault: proxies pass again, no statement fault is left. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(): Promise<FaultRig> {
  const statements = new StatementFaults();
  const snowflake = await startSnowflake({ s3: stack.s3, statementHook: statements.hook });
  const pgUrl = new URL(stack.postgres.url);
  const s3Url = new URL(stack.s3.endpoint);
  const sfUrl = new URL(snowflake.accessUrl);
  const [postgres, s3, warehouse] = await Promise.all([
    TcpProxy.start({ host: pgUrl.hostname, port: Number(pgUrl.port) }),
    TcpProxy.start({ host: s3Url.hostname, port: Number(s3Url.port) }),
    TcpProxy.start({ host: sfUrl.hostname, port: Number(sfUrl.port) }),
  ]);
  const proxies = [postgres, s3, warehouse];
  return {
    snowflake,
    statements,
    postgres,
    s3,
    warehouse,
    async reset() {
      statements.clear();
      await Promise.all(proxies.map((p) => p.pass()));
    },
    async stop() {
      await Promise.allSettled(proxies.map((p) => p.stop()));
      await closeSnowflakeConnections();
      await snowflake.stop();
    },
  };
}

export interface RunOptions extends Partial<RunPipelineOptions> {
  /** Called when a state starts, succeeds or fails: where a scenario switches a fault on or off. */
  readonly at?: (progress: Progress) => void;
}

export interface Run extends Verdict {
  /** The alerts the run published, as the local notifier appended them to its file. */
  readonly alertLines: unknown[];
}

export interface Scenario {
  /** The configuration the pipeline runs with: every connection goes through the rig's proxies. */
  readonly config: TallyConfig;
  run(input: ExecutionInput, options?: RunOptions): Promise<Run>;
  /** A statement against this scenario's database, straight to PostgreSQL. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Opens a client straight to this scenario's database (for a transaction left open on purpose). */
  client(): Promise<pg.Client>;
  /** Inserts `count` rows after the highest id, stamped now. */
  insertRows(count: number): Promise<void>;
  /** Changes `count` existing rows (the lowest ids), stamped now. */
  updateRows(count: number): Promise<void>;
  /** A statement against this scenario's Snowflake schema, straight to the stand-in. */
  targetSql(text: string): Promise<Record<string, unknown>[]>;
  /** The whole audit log in chain order; the chain must verify. */
  auditLog(): Promise<AuditEvent[]>;
  auditOf(executionId: string): Promise<AuditEvent[]>;
  /** WINDOW_END of the table's last `success` event: where the next incremental window starts from. */
  watermark(): Promise<string | null>;
  /** Source rows the target lacks or holds in another version, with their cursor values. */
  undelivered(): Promise<{ id: string; updatedAt: string }[]>;
  /** Asserts that no undelivered row lies below the watermark: the next window still covers all of them. */
  expectWatermarkBelowUndelivered(): Promise<void>;
  /** Asserts the target holds exactly the source's rows, compared row by row over the whole table. */
  expectTargetEqualsSource(): Promise<void>;
  drop(): Promise<void>;
}

interface Row {
  readonly id: string;
  readonly name: string;
  readonly amount: number | null;
  readonly updatedAt: string;
}

/** One test file's rig and the scenarios its tests create. */
export interface FileRig {
  /** The running rig: read it inside a test or hook, not at module level. */
  readonly rig: FaultRig;
  /** A fresh scenario on the rig, dropped after the test; `pipeline` overrides its pipeline settings. */
  scenario(tag: string, rows?: number, pipeline?: Partial<PipelineConfig>, key?: KeyShape): Promise<Scenario>;
  /**
   * A fresh scenario loaded by a historical run, then changed: five new rows and three changed ones wait
   * for the next window, whose start is `watermark`.
   */
  loadedThenChanged(tag: string, rows?: number): Promise<{ s: Scenario; watermark: string }>;
}

/**
 * Starts a rig before the file's tests and stops it after them; after each test clears every fault
 * and drops the test's scenarios. Call it once, at the top of a test file.
 */
export function rigForFile(): FileRig {
  let current: FaultRig | undefined;
  let created: Scenario[] = [];
  beforeAll(async () => {
    current = await startRig();
  });
  afterAll(async () => {
    await current?.stop();
  });
  afterEach(async () => {
    await current?.reset();
    await Promise.allSettled(created.map((s) => s.drop()));
    created = [];
  });
  const file: FileRig = {
    get rig(): FaultRig {
      if (!current) throw new Error('the rig starts in beforeAll: read it inside a test');
      return current;
    },
    async scenario(tag, rows, pipeline, key) {
      const s = await scenario(file.rig, tag, rows, pipeline, key);
      created.push(s);
      return s;
    },
    async loadedThenChanged(tag, rows) {
      const s = await file.scenario(tag, rows);
      const historical = await s.run({ pipeline: 'historical' });
      expect(historical.status).toBe('succeeded');
      const watermark = await s.watermark();
      expect(watermark).not.toBeNull();
      await s.insertRows(5);
      await s.updateRows(3);
      return { s, watermark: watermark as string };
    },
  };
  return file;
}

/**
 * A database, an S3 prefix and a Snowflake schema of this scenario's own, and a table of `rows` rows,
 * analyzed (so its key has statistics for a chunked load's split).
 */
export async function scenario(
  rig: FaultRig,
  tag: string,
  rows = 30,
  pipeline: Partial<PipelineConfig> = {},
  key: KeyShape = 'bigint',
): Promise<Scenario> {
  const label = `netfault_${tag}_${ulid().slice(-8).toLowerCase()}`;
  await onDatabase(stack.postgres.url, (c) => c.query(`CREATE DATABASE ${label}`));
  const direct = new URL(stack.postgres.url);
  direct.pathname = `/${label}`;
  const sql = (text: string, values?: unknown[]) =>
    onDatabase(direct.toString(), (c) => c.query(text, values));
  await sql(
    key === 'bigint'
      ? `CREATE TABLE items (
    id bigint PRIMARY KEY, name text NOT NULL, amount integer, updated_at timestamptz NOT NULL DEFAULT now())`
      : `CREATE TABLE items (code text NOT NULL, id bigint NOT NULL UNIQUE, name text NOT NULL, amount integer,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (code, id))`,
  );
  const codeOf = key === 'bigint' ? '' : `'item-' || lpad(n::text, 6, '0'), `;
  const insertRows = async (count: number) => {
    await sql(
      `INSERT INTO items (${key === 'bigint' ? '' : 'code, '}id, name, amount)
       SELECT ${codeOf}n, 'item ' || n, (n * 7) % 100
       FROM generate_series((SELECT coalesce(max(id), 0) + 1 FROM items),
                            (SELECT coalesce(max(id), 0) + $1 FROM items)) AS n`,
      [count],
    );
  };
  await insertRows(rows);
  await sql('ANALYZE items');

  const base = localConfig(
    stack,
    [
      {
        schema: 'public',
        name: 'items',
        primaryKey: key === 'bigint' ? ['id'] : ['code', 'id'],
        cursorColumn: 'updated_at',
      },
    ],
    {
      lagSeconds: 0,
      lookbackSeconds: 60,
      volumeGuard: { mode: 'off', history: 10, minRatio: 0.1 },
      ...pipeline,
    },
  );
  const schema = label.toUpperCase();
  const proxiedPg = new URL(direct);
  proxiedPg.port = String(rig.postgres.port);
  const { snowflake } = rig;
  const snowflakeConfig = {
    ...base.snowflake,
    account: snowflake.account,
    username: snowflake.username,
    password: snowflake.password,
    database: snowflake.database,
    schema,
    warehouse: snowflake.warehouse,
    role: snowflake.role,
  };
  const config: TallyConfig = {
    ...base,
    postgres: { ...base.postgres, url: proxiedPg.toString(), connectTimeoutMs: 2_000 },
    s3: { ...base.s3, prefix: label, endpoint: `http://${rig.s3.address}` },
    snowflake: { ...snowflakeConfig, accessUrl: `http://${rig.warehouse.address}` },
  };
  const inspect = { ...snowflakeConfig, accessUrl: snowflake.accessUrl };
  // Every scenario has the same table and settings, so one synthesis (a few seconds) serves them all.
  synthesized ??= synthesizeDefinition(config) as unknown as StateMachineDefinition;
  const definition = synthesized;

  const targetSql = async (text: string) => {
    const connection = await connect({ ...inspect, password: snowflake.password });
    try {
      return (await exec(connection, text)).rows;
    } finally {
      await destroy(connection);
    }
  };

  const auditLog = async () => {
    const log = await readAuditLog({ ...config, snowflake: inspect });
    expect(verifyChain(log)).toBeNull();
    return log;
  };

  const watermark = async () =>
    (await auditLog()).filter((e) => e.eventType === 'success' && e.sourceTable === TABLE).at(-1)
      ?.windowEnd ?? null;

  const sourceRows = async (): Promise<Row[]> =>
    (
      await sql(`SELECT id, name, amount,
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at
        FROM items ORDER BY id`)
    ).rows.map((r) => ({
      id: String(r.id),
      name: r.name as string,
      amount: r.amount === null ? null : Number(r.amount),
      updatedAt: r.updated_at as string,
    }));

  const targetRows = async (): Promise<Omit<Row, 'updatedAt'>[]> =>
    (await targetSql('SELECT ID, NAME, AMOUNT FROM ITEMS ORDER BY ID')).map((r) => ({
      id: String(r.ID),
      name: r.NAME as string,
      amount: r.AMOUNT === null ? null : Number(r.AMOUNT),
    }));

  const undelivered = async () => {
    const target = new Map((await targetRows()).map((r) => [r.id, r]));
    return (await sourceRows())
      .filter((r) => {
        const t = target.get(r.id);
        return !t || t.name !== r.name || t.amount !== r.amount;
      })
      .map((r) => ({ id: r.id, updatedAt: r.updatedAt }));
  };

  return {
    config,
    sql,
    async client() {
      const client = new pg.Client({ connectionString: direct.toString() });
      await client.connect();
      return client;
    },
    insertRows,
    async updateRows(count) {
      await sql(
        `UPDATE items SET name = name || ' (changed)', amount = coalesce(amount, 0) + 1, updated_at = now()
         WHERE id IN (SELECT id FROM items ORDER BY id LIMIT $1)`,
        [count],
      );
    },
    targetSql,
    auditLog,
    async auditOf(executionId) {
      return (await auditLog()).filter((e) => e.executionId === executionId);
    },
    watermark,
    undelivered,
    async expectWatermarkBelowUndelivered() {
      const mark = await watermark();
      const missing = await undelivered();
      if (mark === null) return;
      for (const row of missing) expect(row.updatedAt >= mark, `row ${row.id} below ${mark}`).toBe(true);
    },
    async expectTargetEqualsSource() {
      const source = (await sourceRows()).map(({ updatedAt: _, ...rest }) => rest);
      const target = await targetRows();
      expect(source.length).toBeGreaterThan(0);
      expect(target).toEqual(source);
    },
    async run(input, options = {}) {
      const { at, ...extra } = options;
      const alertsFile = join(tmpdir(), `${label}-${ulid()}-alerts.jsonl`);
      const verdict = await runPipeline({
        config,
        input,
        definition,
        retryIntervalMs: 10,
        printAlert: () => {},
        alertsFile,
        onProgress: (progress) => at?.(progress),
        ...extra,
      });
      // A Lambda that timed out is discarded with its connections; so are this run's, whatever hung on them.
      await closeSnowflakeConnections();
      const text = await readFile(alertsFile, 'utf8').catch(() => '');
      const alertLines = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
      return { ...verdict, alertLines };
    },
    async drop() {
      await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
    },
  };
}

/** The event types of a run's audit events for the table, in chain order. */
export function eventTypes(events: readonly AuditEvent[]): string[] {
  return events.filter((e) => e.sourceTable === TABLE).map((e) => e.eventType);
}
