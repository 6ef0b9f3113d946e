// The synthesized state machine run locally against the embedded PostgreSQL, S3 and Snowflake stand-ins:
// what the audit log says after a historical run, an incremental run, a retried transient failure and a
// count mismatch.

import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyAudit } from '../../cli/audit-log';
import type { TallyConfig } from '../../lambdas/config';
import { type AuditEvent, verifyChain } from '../../lambdas/domain/audit';
import { SourceUnavailableError } from '../../lambdas/domain/errors';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import { changeDemo, DEMO_TABLES, type DemoCounts, seedDemo } from '../../local/demo-data';
import type { StateMachineDefinition } from '../../local/interpreter';
import { localConfig } from '../../local/local-config';
import { runPipeline, type Verdict } from '../../local/runner';
import { auditLog as readAuditLog } from '../support/audit';
import { wrapping } from '../support/port-overrides';
import { onDatabase } from '../support/postgres';

const stack = inject('stack');
const label = `pipe_${process.pid}`;
let config: TallyConfig;
let definition: StateMachineDefinition;
let seeded: DemoCounts;
let historical: Verdict;

const auditLog = (): Promise<AuditEvent[]> => readAuditLog(config);

async function auditOf(executionId: string): Promise<AuditEvent[]> {
  return (await auditLog()).filter((e) => e.executionId === executionId);
}

function run(
  input: Parameters<typeof runPipeline>[0]['input'],
  extra: Partial<Parameters<typeof runPipeline>[0]> = {},
) {
  return runPipeline({ config, input, definition, retryIntervalMs: 10, printAlert: () => {}, ...extra });
}

beforeAll(async () => {
  // A database and a Snowflake schema of this file's own, so parallel test files never meet here.
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label}`));
  await onDatabase(stack.postgres.url, (c) => c.query(`CREATE DATABASE ${label}`));
  const url = new URL(stack.postgres.url);
  url.pathname = `/${label}`;
  seeded = await seedDemo(url.toString(), { rows: 200, seed: 11 });
  const base = localConfig(stack, DEMO_TABLES, { lagSeconds: 0, lookbackSeconds: 300 });
  config = {
    ...base,
    postgres: { ...base.postgres, url: url.toString() },
    s3: { ...base.s3, prefix: label },
    snowflake: { ...base.snowflake, schema: label.toUpperCase() },
  };
  definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;
  historical = await run({ pipeline: 'historical' });
}, 240_000);

afterAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

describe('the synthesized definition, run locally', () => {
  it('leaves an audit log whose hash chain verifies after every run', async () => {
    await run({ pipeline: 'incremental', tables: ['order_lines'] });
    const log = await auditLog();
    expect(log.length).toBeGreaterThan(DEMO_TABLES.length * 2);
    expect(verifyChain(log)).toBeNull();
    // Against its mirror and its checkpoints too, every event anchored once each table's run ended.
    const verified = await verifyAudit(config, { full: true });
    expect(verified).toMatchObject({ intact: true, checked: log.length, unanchored: 0 });
    expect(verified.checkpoints).toBeGreaterThan(0);
  });

  it('transfers every table in a historical run, with start and success rows that carry the counts', async () => {
    expect(historical.status).toBe('succeeded');
    expect(historical.alerts).toEqual([]);
    const events = await auditOf(historical.executionId);
    for (const table of DEMO_TABLES) {
      const name = `public.${table.name}`;
      const rows = events.filter((e) => e.sourceTable === name);
      // With each retry's reason, so that an unexpected one says why it happened.
      // The success's message carries only the value check's figures: every value verified, none differing.
      expect(rows.map((e) => [e.eventType, e.errorMessage ?? null])).toEqual([
        ['start', null],
        [
          'success',
          expect.stringMatching(
            /^values verified \(full\): \d+ segment checksums, \d+ compared, 0 mismatches/,
          ),
        ],
      ]);
      const [start, success] = rows as [AuditEvent, AuditEvent];
      const expected = seeded[table.name as keyof DemoCounts];
      expect(start).toMatchObject({
        status: 'RUNNING',
        recordCountBefore: null,
        windowStart: null,
        windowEnd: null,
      });
      expect(success).toMatchObject({
        status: 'SUCCEEDED',
        jobId: start.jobId,
        recordCountBefore: expected,
        rowsExported: expected,
        rowsParsed: expected,
        rowsLoaded: expected,
        recordCountAfter: expected,
        countMatch: true,
        retryCount: 0,
        jobStartTime: start.jobStartTime,
      });
      expect(success.durationMs).toBe(Date.parse(success.jobEndTime!) - Date.parse(success.jobStartTime));
      expect(success.durationMs).toBeGreaterThan(0);
      expect(success.files).toBeGreaterThan(0);
    }
  });

  it('starts the first incremental window after a historical load at its snapshot bound minus the lookback, then moves only the changed rows', async () => {
    const lookbackMs = config.pipeline.lookbackSeconds * 1000;
    const historicalSuccess = (await auditOf(historical.executionId)).find(
      (e) => e.eventType === 'success' && e.sourceTable === 'public.orders',
    );
    // The bound the historical export read before its snapshot: at or after the job started.
    expect(Date.parse(historicalSuccess!.windowEnd!)).toBeGreaterThanOrEqual(
      Date.parse(historicalSuccess!.jobStartTime) - 1000,
    );
    const first = await run({ pipeline: 'incremental', tables: ['orders'] });
    expect(first.status).toBe('succeeded');
    const firstRows = await auditOf(first.executionId);
    expect(firstRows.map((e) => e.eventType)).toEqual(['start', 'success']);
    expect(firstRows[0]!.windowStart).toBe(
      new Date(Date.parse(historicalSuccess!.windowEnd!) - lookbackMs).toISOString(),
    );
    // Every seeded row is older than the historical bound minus the lookback: nothing moves again.
    expect(firstRows[1]).toMatchObject({ recordCountBefore: 0, rowsExported: 0, countMatch: true });
    const changes = await changeDemo(config.postgres.url!, { seed: 3 });
    const second = await run({ pipeline: 'incremental', tables: ['orders'] });
    expect(second.status).toBe('succeeded');
    const [firstSuccess] = (await auditOf(first.executionId)).filter((e) => e.eventType === 'success');
    const rows = await auditOf(second.executionId);
    expect(rows.map((e) => e.eventType)).toEqual(['start', 'success']);
    const [start, success] = rows as [AuditEvent, AuditEvent];
    const changed = changes.inserted.orders + changes.updated.orders;
    expect(start.windowStart).toBe(new Date(Date.parse(firstSuccess!.windowEnd!) - lookbackMs).toISOString());
    // The window the success row records ends at the bound the export read in its snapshot.
    expect(start.windowEnd).toBeNull();
    expect(Date.parse(success.windowEnd!)).toBeGreaterThan(Date.parse(firstSuccess!.windowEnd!));
    expect(success).toMatchObject({
      windowStart: start.windowStart,
      recordCountBefore: changed,
      rowsExported: changed,
      rowsLoaded: changed,
      recordCountAfter: changed,
      countMatch: true,
    });
    expect(success.durationMs).toBe(Date.parse(success.jobEndTime!) - Date.parse(success.jobStartTime));
  });

  it('recovers from a transient source failure after one retry and audits the retry', async () => {
    let failed = false;
    const flakyExport = wrapping({
      source: (source) => ({
        export: async (...args: Parameters<typeof source.export>) => {
          if (failed) return source.export(...args);
          failed = true;
          throw new SourceUnavailableError('connection refused (injected)');
        },
      }),
    });
    const verdict = await run({ pipeline: 'incremental', tables: ['customers'] }, { wrapPorts: flakyExport });
    expect(verdict.status).toBe('succeeded');
    expect(verdict.tables).toEqual([{ table: 'public.customers', status: 'succeeded' }]);
    const rows = await auditOf(verdict.executionId);
    expect(rows.map((e) => [e.eventType, e.retryCount])).toEqual([
      ['start', 0],
      ['retry', 1],
      ['success', 1],
    ]);
    expect(rows[1]).toMatchObject({
      status: 'RETRYING',
      retryStatus: 'retrying',
      sourceTable: 'public.customers',
    });
    expect(rows[2]!.countMatch).toBe(true);
  });

  it('fails a table whose target count does not close: a failure row, one alert, an alert row', async () => {
    const alertsFile = join(tmpdir(), `${label}-alerts.jsonl`);
    const shortCount = wrapping({
      warehouse: (warehouse) => ({
        // A row deleted from the target behind Tally's back, as the target count sees it.
        count: async (...args: Parameters<typeof warehouse.count>) => (await warehouse.count(...args)) - 1,
      }),
    });
    const verdict = await run(
      { pipeline: 'incremental', tables: ['events'] },
      { wrapPorts: shortCount, alertsFile },
    );
    expect(verdict.status).toBe('failed');
    expect(verdict.error?.name).toBe('TransferFailed');
    expect(verdict.tables).toEqual([
      {
        table: 'public.events',
        status: 'failed',
        failure: {
          stage: 'VerifyCounts',
          error: 'CountMismatchError',
          message: expect.stringContaining("stage 'target'"),
        },
      },
    ]);
    expect(verdict.alerts).toHaveLength(1);
    const lines = (await readFile(alertsFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const published = JSON.parse(lines[0]!) as { executionId: string; subject: string; message: string };
    expect(published).toMatchObject({
      executionId: verdict.executionId,
      subject: 'Tally: 1 of 1 table(s) failed in the incremental run',
    });
    expect(published.message).toContain('- public.events: failed at VerifyCounts with CountMismatchError:');
    const rows = await auditOf(verdict.executionId);
    expect(rows.map((e) => e.eventType)).toEqual(['start', 'failure', 'alert']);
    const [, failure, alert] = rows as [AuditEvent, AuditEvent, AuditEvent];
    expect(failure).toMatchObject({ status: 'FAILED', errorType: 'CountMismatchError', countMatch: false });
    expect(failure.errorMessage).toContain("stage 'target'");
    expect(failure.recordCountAfter).toBe(failure.recordCountBefore! - 1);
    expect(alert).toMatchObject({ status: 'ALERTED', alertTriggered: true, sourceTable: 'public.events' });
  });
});
