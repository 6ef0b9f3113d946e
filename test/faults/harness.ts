// Shared setup of the fault-injection suite: a fresh PostgreSQL database and Snowflake schema per
// scenario, a small table, runs of the synthesized state machine, port wrappers and a whole-table check.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ulid } from 'ulid';
import { expect, inject } from 'vitest';
import type { TallyConfig } from '../../lambdas/config';
import { type AuditEvent, verifyChain } from '../../lambdas/domain/audit';
import { ADAPTERS } from '../../lambdas/runtime/adapters';
import { chainOrder } from '../../lambdas/steps/audit-writer';
import type { ExecutionInput } from '../../lambdas/steps/contract';
import type { Ports } from '../../lambdas/steps/deps';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import { localConfig } from '../../local/cli/local-config';
import type { StateMachineDefinition } from '../../local/interpreter';
import { type RunPipelineOptions, runPipeline, type Verdict } from '../../local/runner';
import { connect, exec } from '../integration/snowflake-client';

export const TABLE = 'public.items';

export interface FaultStack {
  readonly config: TallyConfig;
  readonly label: string;
  /** Runs one execution; `alertsFile` of the result holds the alerts it published, one JSON a line. */
  run(input: ExecutionInput, extra?: Partial<RunPipelineOptions>): Promise<Run>;
  /** Runs a statement against this scenario's database. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Inserts `count` rows after the highest id, stamped now. */
  insertRows(count: number): Promise<void>;
  auditOf(executionId: string): Promise<AuditEvent[]>;
  auditLog(): Promise<AuditEvent[]>;
  /** WINDOW_END of the table's last `success` event: where the next incremental window starts from. */
  watermark(): Promise<string | null>;
  /** Runs a statement against this scenario's Snowflake schema, behind Tally's back. */
  targetSql(text: string): Promise<Record<string, unknown>[]>;
  /** Asserts the target holds exactly the source's rows, compared row by row over the whole table. */
  expectTargetEqualsSource(): Promise<void>;
  drop(): Promise<void>;
}

export interface Run extends Verdict {
  readonly alertLines: unknown[];
}

const stack = inject('stack');

async function onDatabase<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A database, an S3 prefix and a Snowflake schema of this scenario's own, and a table of `rows` rows. */
export async function faultStack(
  tag: string,
  rows = 20,
  pipeline: Partial<TallyConfig['pipeline']> = {},
): Promise<FaultStack> {
  const label = `faults_${tag}_${ulid().slice(-8).toLowerCase()}`;
  await onDatabase(stack.postgres.url, (c) => c.query(`CREATE DATABASE ${label}`));
  const url = new URL(stack.postgres.url);
  url.pathname = `/${label}`;
  const sql = (text: string, values?: unknown[]) => onDatabase(url.toString(), (c) => c.query(text, values));
  await sql(`CREATE TABLE items (
    id bigint PRIMARY KEY, name text NOT NULL, amount integer, updated_at timestamptz NOT NULL DEFAULT now())`);
  const insertRows = async (count: number) => {
    await sql(
      `INSERT INTO items (id, name, amount)
       SELECT n, 'item ' || n, (n * 7) % 100
       FROM generate_series((SELECT coalesce(max(id), 0) + 1 FROM items),
                            (SELECT coalesce(max(id), 0) + $1 FROM items)) AS n`,
      [count],
    );
  };
  await insertRows(rows);
  const base = localConfig(
    stack,
    [{ schema: 'public', name: 'items', primaryKey: ['id'], cursorColumn: 'updated_at' }],
    {
      lagSeconds: 0,
      lookbackSeconds: 60,
      volumeGuard: { mode: 'off', history: 10, minRatio: 0.1 },
      ...pipeline,
    },
  );
  const config: TallyConfig = {
    ...base,
    postgres: { ...base.postgres, url: url.toString() },
    s3: { ...base.s3, prefix: label },
    snowflake: { ...base.snowflake, schema: label.toUpperCase() },
  };
  const definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;

  const auditLog = async () => {
    const warehouse = ADAPTERS.warehouse(config);
    try {
      const log = chainOrder(await warehouse.readAudit());
      expect(verifyChain(log)).toBeNull();
      return log;
    } finally {
      await warehouse.close();
    }
  };

  const targetSql = async (text: string) => {
    const { snowflake } = config;
    const connection = await connect({
      accessUrl: snowflake.accessUrl!,
      account: snowflake.account,
      username: snowflake.username,
      password: snowflake.password!,
      database: snowflake.database,
      schema: snowflake.schema,
    });
    try {
      return (await exec(connection, text)).rows;
    } finally {
      await new Promise<void>((resolve) => connection.destroy(() => resolve()));
    }
  };

  return {
    config,
    targetSql,
    label,
    sql,
    insertRows,
    auditLog,
    async run(input, extra = {}) {
      const alertsFile = join(tmpdir(), `${label}-${ulid()}-alerts.jsonl`);
      const verdict = await runPipeline({
        config,
        input,
        definition,
        retryIntervalMs: 10,
        printAlert: () => {},
        alertsFile,
        ...extra,
      });
      const text = await readFile(alertsFile, 'utf8').catch(() => '');
      const alertLines = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
      return { ...verdict, alertLines };
    },
    async auditOf(executionId) {
      return (await auditLog()).filter((e) => e.executionId === executionId);
    },
    async watermark() {
      const successes = (await auditLog()).filter(
        (e) => e.eventType === 'success' && e.sourceTable === TABLE,
      );
      return successes.at(-1)?.windowEnd ?? null;
    },
    async expectTargetEqualsSource() {
      const source = (await sql('SELECT id, name, amount FROM items ORDER BY id')).rows.map((r) => ({
        id: String(r.id),
        name: r.name as string,
        amount: r.amount === null ? null : Number(r.amount),
      }));
      const target = (await targetSql('SELECT ID, NAME, AMOUNT FROM ITEMS ORDER BY ID')).map((r) => ({
        id: String(r.ID),
        name: r.NAME as string,
        amount: r.AMOUNT === null ? null : Number(r.AMOUNT),
      }));
      expect(source.length).toBeGreaterThan(0);
      expect(target).toEqual(source);
    },
    async drop() {
      await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
    },
  };
}

/** Forwards everything to the real object but lets a scenario replace some of its methods. */
export function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof T];
      const value = Reflect.get(t, prop, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

type Overrides<K extends keyof Ports> = (port: Ports[K]) => Partial<Ports[K]>;

/** Wraps the ports lazily (each is opened on first use), replacing methods of the named ones. */
export function wrapping(faults: {
  source?: Overrides<'source'>;
  stage?: Overrides<'stage'>;
  warehouse?: Overrides<'warehouse'>;
}): (ports: Ports) => Ports {
  return (ports) => ({
    get source() {
      return faults.source ? overriding(ports.source, faults.source(ports.source)) : ports.source;
    },
    get stage() {
      return faults.stage ? overriding(ports.stage, faults.stage(ports.stage)) : ports.stage;
    },
    get warehouse() {
      return faults.warehouse
        ? overriding(ports.warehouse, faults.warehouse(ports.warehouse))
        : ports.warehouse;
    },
  });
}

/** The event types of a run's audit events for the table, in chain order. */
export function eventTypes(events: readonly AuditEvent[]): string[] {
  return events.filter((e) => e.sourceTable === TABLE).map((e) => e.eventType);
}
