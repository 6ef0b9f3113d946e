// Faults at the source: PostgreSQL down at count, its connection killed in the middle of an export, and a
// transaction that commits after the window it stamped its rows in has closed.
import type { Readable } from 'node:stream';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../lambdas/domain/errors';
import { eventTypes, type FaultStack, faultStack, TABLE, wrapping } from './harness';

let stacks: FaultStack[] = [];

async function fresh(...args: Parameters<typeof faultStack>): Promise<FaultStack> {
  const s = await faultStack(...args);
  stacks.push(s);
  return s;
}

afterEach(async () => {
  await Promise.allSettled(stacks.map((s) => s.drop()));
  stacks = [];
});

describe('PostgreSQL down at count', () => {
  it('retries until the attempts run out, fails with one alert, keeps the watermark, then catches up once it is back', async () => {
    const s = await fresh('pgdown');
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const before = await s.watermark();
    expect(before).not.toBeNull();
    await s.insertRows(5);

    let counts = 0;
    const down = wrapping({
      source: () => ({
        count: async () => {
          counts++;
          throw new SourceUnavailableError('connection refused (injected at count)');
        },
      }),
    });
    const failed = await s.run({ pipeline: 'incremental' }, { wrapPorts: down });
    expect(failed.status).toBe('failed');
    expect(counts).toBeGreaterThan(1);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'retry', 'retry', 'retry', 'failure', 'alert']);
    expect(events.filter((e) => e.eventType === 'retry').map((e) => e.retryCount)).toEqual([1, 2, 3, 4]);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      status: 'FAILED',
      errorType: 'SourceUnavailableError',
      sourceTable: TABLE,
    });
    expect(events.find((e) => e.eventType === 'alert')).toMatchObject({ alertTriggered: true });
    expect(failed.alertLines).toHaveLength(1);
    expect(await s.watermark()).toBe(before);

    const recovered = await s.run({ pipeline: 'incremental' });
    expect(recovered.status).toBe('succeeded');
    expect(recovered.alertLines).toEqual([]);
    expect(eventTypes(await s.auditOf(recovered.executionId))).toEqual(['start', 'success']);
    await s.expectTargetEqualsSource();
  }, 60_000);
});

describe('the PostgreSQL connection killed mid-export', () => {
  it('fails the table cleanly with one alert and an unmoved watermark, and the next run loads every row once', async () => {
    const s = await fresh('pgkill');
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const before = await s.watermark();
    await s.insertRows(6);
    let killed: unknown[] = [];
    const killing = wrapping({
      stage: (stage) => ({
        upload: async (key: string, body: Readable, contentType?: string) => {
          if (killed.length === 0 && key.endsWith('.csv.gz')) {
            killed = (
              await s.sql(
                `SELECT pid, query, state, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'copy%'`,
              )
            ).rows;
          }
          return stage.upload(key, body, contentType);
        },
      }),
    });
    const run = await s.run({ pipeline: 'incremental' }, { wrapPorts: killing });
    expect(killed).toHaveLength(1);
    expect(run.status).toBe('failed');
    expect(run.alerts).toHaveLength(1);
    expect(run.alertLines).toHaveLength(1);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'failure', 'alert']);
    expect(events[1]).toMatchObject({ status: 'FAILED', sourceTable: TABLE, rowsLoaded: null });
    expect(await s.watermark()).toBe(before);

    const recovered = await s.run({ pipeline: 'incremental' });
    expect(recovered.status).toBe('succeeded');
    expect(recovered.alertLines).toEqual([]);
    expect(eventTypes(await s.auditOf(recovered.executionId))).toEqual(['start', 'success']);
    await s.expectTargetEqualsSource();
  }, 60_000);
});

describe('a long-running source transaction', () => {
  it('keeps the rows it stamped below the window bound until it commits, and the next run picks them up', async () => {
    const s = await fresh('late', 20, { lookbackSeconds: 0 });
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const late = new pg.Client({ connectionString: s.config.postgres.url });
    await late.connect();
    try {
      await late.query('BEGIN');
      const stamped = (
        await late.query(`INSERT INTO items (id, name, amount) VALUES (1000, 'late', 1) RETURNING updated_at`)
      ).rows[0].updated_at as Date;
      await s.insertRows(3);
      const during = await s.run({ pipeline: 'incremental' });
      expect(during.status).toBe('succeeded');
      // The window closed at or below the open transaction's stamp, so its row belongs to a later one.
      expect(Date.parse((await s.watermark())!)).toBeLessThanOrEqual(stamped.getTime());
      // Rows committed since it began wait behind it too: only the historical rows are in the target.
      expect(await s.targetSql('SELECT COUNT(*) AS N FROM ITEMS')).toEqual([{ N: 20 }]);
      await late.query('COMMIT');
    } finally {
      await late.end();
    }
    const after = await s.run({ pipeline: 'incremental' });
    expect(after.status).toBe('succeeded');
    expect(eventTypes(await s.auditOf(after.executionId))).toEqual(['start', 'success']);
    expect(await s.targetSql('SELECT NAME FROM ITEMS WHERE ID = 1000')).toEqual([{ NAME: 'late' }]);
    await s.expectTargetEqualsSource();
  }, 60_000);
});
