// Faults at the warehouse, through a TCP proxy in front of a Snowflake stand-in of this file's own and
// statement faults inside it: Snowflake down at load, an error in the middle of a MERGE, the audit table
// unreachable while an event is written, a step past its time limit, a target row deleted behind Tally's
// back, and two executions started at once for the same table (one loads it, the other waits or skips it).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { eventTypes, type Run, rigForFile, type Scenario, TABLE } from '../support/faults/rig';
import { SNOWFLAKE_ERRORS } from '../support/faults/statement-faults';
import { wrapping } from '../support/port-overrides';

const file = rigForFile();

/** The MERGE of staged rows into the target (not the lease table's MERGE). */
const TARGET_MERGE = /^MERGE INTO \S*"ITEMS" t USING \S*"TALLY-STAGING-ITEMS" /;
const AUDIT_INSERT = /^INSERT INTO \S*TALLY_AUDIT_LOG/;

/**
 * Asserts a run that failed the table once: one alert, the events `start`, `failure` (matching
 * `failure`), `alert`, and the watermark kept below every row it did not deliver.
 */
async function expectFailedKeepingWatermark(
  s: Scenario,
  failed: Run,
  watermark: string,
  failure: Partial<AuditEvent>,
): Promise<void> {
  expect(failed.status).toBe('failed');
  expect(failed.alertLines).toHaveLength(1);
  const events = await s.auditOf(failed.executionId);
  expect(eventTypes(events)).toEqual(['start', 'failure', 'alert']);
  expect(events[1]).toMatchObject(failure);
  expect(await s.watermark()).toBe(watermark);
  await s.expectWatermarkBelowUndelivered();
}

/** After the fault is cleared, one more run delivers everything: the target equals the source. */
async function recovers(s: Scenario): Promise<void> {
  await file.rig.reset();
  const recovered = await s.run({ pipeline: 'incremental' });
  // Said in the message: why the run after the fault could not catch up.
  const why = (await s.auditOf(recovered.executionId))
    .filter((e) => e.eventType === 'failure')
    .map((e) => `${e.errorType}: ${e.errorMessage}`)
    .at(-1);
  expect(recovered.status, why).toBe('succeeded');
  expect(recovered.alertLines).toEqual([]);
  await s.expectTargetEqualsSource();
}

/** No event reached the audit table twice, and every job has at most one closing success. */
function expectEachEventOnce(events: readonly { eventId: string; jobId: string; eventType: string }[]): void {
  expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  const successes = events.filter((e) => e.eventType === 'success').map((e) => e.jobId);
  expect(new Set(successes).size).toBe(successes.length);
}

describe('the Snowflake stand-in down at load', () => {
  it('fails each attempt by its deadline with a transient error, records the failure and one alert, keeps the watermark, and catches up once Snowflake is back', async () => {
    const { s, watermark } = await file.loadedThenChanged('sfdown');
    const limitMs = 3_000;
    const loads: { started: number; failed?: number; error?: string }[] = [];
    const failed = await s.run(
      { pipeline: 'incremental' },
      {
        // The driver would retry a request that cannot reach Snowflake for far longer than a Lambda may run.
        // Short limits for the audit steps, which cannot write their events either: each of their attempts
        // fails by its deadline too, and is retried.
        timeLimitsMs: { LoadSnowflake: limitMs, AuditFailure: 1_000, AuditAlert: 1_000, '*': 2_000 },
        at: (p) => {
          if (p.state !== 'LoadSnowflake') return;
          if (p.phase === 'started') loads.push({ started: Date.now() });
          const load = loads.at(-1);
          if (p.phase === 'failed' && load) Object.assign(load, { failed: Date.now(), error: p.error?.name });
          if (p.phase === 'started' && p.attempt === 0) {
            file.rig.warehouse.refuse('unlisten');
            file.rig.warehouse.killAll();
          }
        },
      },
    );
    expect(failed.status).toBe('failed');
    expect(failed.alertLines).toHaveLength(1);
    // Every attempt ended by the step's deadline, named and retried, none at its Lambda's timeout.
    expect(loads.length).toBeGreaterThan(1);
    for (const load of loads) {
      expect(load.error).toBe('WarehouseUnavailableError');
      expect(load.failed! - load.started).toBeLessThan(limitMs);
    }
    expect(await s.watermark()).toBe(watermark);
    await s.expectWatermarkBelowUndelivered();
    await recovers(s);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toContain('failure');
    expect(eventTypes(events)).toContain('alert');
    const failure = events.find((e) => e.eventType === 'failure');
    expect(failure?.errorType).toBe('WarehouseUnavailableError');
    expect(failure?.errorMessage).toContain("before the step's deadline");
    const log = await s.auditLog();
    expectEachEventOnce(log);
    expect(log.filter((e) => e.eventType === 'success').at(-2)?.windowEnd).toBe(watermark);
  }, 120_000);
});

describe('an error in the middle of a MERGE', () => {
  it('retries a MERGE whose answer was lost after it committed, without duplicating a row', async () => {
    const { s } = await file.loadedThenChanged('mergelost');
    file.rig.statements.add({
      match: TARGET_MERGE,
      error: SNOWFLAKE_ERRORS.internal,
      when: 'after',
      times: 1,
    });
    const run = await s.run({ pipeline: 'incremental' });
    expect(file.rig.statements.hits).toHaveLength(1);
    expect(run.status).toBe('succeeded');
    expect(run.alertLines).toEqual([]);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[1]?.errorMessage).toContain('LoadSnowflake');
    expect(events[2]).toMatchObject({ countMatch: true, retryCount: 1 });
    await s.expectTargetEqualsSource();
    await recovers(s);
  });

  it('fails the table on a SQL error in the MERGE with one alert, keeps the watermark, then catches up', async () => {
    const { s, watermark } = await file.loadedThenChanged('mergeerr');
    file.rig.statements.add({ match: TARGET_MERGE, error: SNOWFLAKE_ERRORS.duplicateRow, times: 1 });
    const failed = await s.run({ pipeline: 'incremental' });
    await expectFailedKeepingWatermark(s, failed, watermark, {
      errorType: 'WarehouseError',
      sourceTable: TABLE,
    });
    expect((await s.undelivered()).length).toBe(8);
    await recovers(s);
  });
});

describe('the warehouse unreachable while an audit event is written', () => {
  it('keeps every event it could not insert and delivers each once, in order, with the next run', async () => {
    const { s } = await file.loadedThenChanged('auditdown');
    const failed = await s.run(
      { pipeline: 'incremental' },
      {
        at: (p) => {
          if (p.state === 'AuditSuccess' && p.phase === 'started' && p.attempt === 0) {
            file.rig.statements.add({ match: AUDIT_INSERT, error: SNOWFLAKE_ERRORS.internal });
          }
        },
      },
    );
    // The data arrived; only its record could not be written, so the execution ends failed and alerts.
    expect(failed.status).toBe('failed');
    expect(failed.alertLines).toHaveLength(1);
    expect(eventTypes(await s.auditOf(failed.executionId))).toEqual(['start']);
    await recovers(s);
    const log = await s.auditLog();
    expectEachEventOnce(log);
    const types = eventTypes(log.filter((e) => e.executionId === failed.executionId));
    expect(types[0]).toBe('start');
    expect(types).toContain('success');
    expect(types).toContain('alert');
    await s.expectWatermarkBelowUndelivered();
  });
});

describe('a step that exceeds its time limit', () => {
  it('ends a step still busy outside any statement at its limit with Sandbox.Timedout and no retry, records the failure and one alert, then catches up', async () => {
    const { s, watermark } = await file.loadedThenChanged('timeout');
    // The step itself is slow before its MERGE: no statement is running to be cancelled at its deadline.
    const slow = wrapping({
      warehouse: (warehouse) => ({
        merge: async (...args: Parameters<typeof warehouse.merge>) => {
          await sleep(3_000);
          return warehouse.merge(...args);
        },
      }),
    });
    const failed = await s.run(
      { pipeline: 'incremental' },
      { timeLimitsMs: { LoadSnowflake: 1_000 }, wrapPorts: slow },
    );
    await expectFailedKeepingWatermark(s, failed, watermark, {
      errorType: 'Sandbox.Timedout',
      sourceTable: TABLE,
    });
    await recovers(s);
  });
});

describe('a row deleted from the target behind Tally’s back', () => {
  it('fails the count check with one alert, keeps the watermark, and the next window restores the row', async () => {
    const { s, watermark } = await file.loadedThenChanged('deleted');
    let deleted = false;
    const deleting = wrapping({
      warehouse: (warehouse) => ({
        // Between the load and the count, someone deletes a row of the window in the target.
        count: async (...args: Parameters<typeof warehouse.count>) => {
          if (!deleted) {
            deleted = true;
            await s.targetSql('DELETE FROM ITEMS WHERE ID = (SELECT MAX(ID) FROM ITEMS)');
          }
          return warehouse.count(...args);
        },
      }),
    });
    const failed = await s.run({ pipeline: 'incremental' }, { wrapPorts: deleting });
    await expectFailedKeepingWatermark(s, failed, watermark, {
      errorType: 'CountMismatchError',
      countMatch: false,
    });
    await recovers(s);
  });
});

describe('two executions started at once for the same table', () => {
  it('lets one load the table while the other waits or skips it without an alert, and leaves no row twice', async () => {
    const { s } = await file.loadedThenChanged('twice');
    const runs = await Promise.all([s.run({ pipeline: 'incremental' }), s.run({ pipeline: 'incremental' })]);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const closing: string[] = [];
    for (const run of runs) {
      expect(run.alertLines).toEqual([]);
      const events = await s.auditOf(run.executionId);
      expect(events.some((e) => e.eventType === 'failure' || e.eventType === 'alert')).toBe(false);
      const last = events.at(-1);
      closing.push(last?.eventType ?? 'none');
      if (last?.eventType === 'skipped') expect(last.errorType).toBe('TableBusyError');
    }
    expect(closing).toContain('success');
    expect(closing.every((t) => t === 'success' || t === 'skipped')).toBe(true);
    // Whoever waited was told who held the table.
    const busy = (await s.auditLog()).filter((e) => e.errorType === 'TableBusyError');
    expect(busy.length).toBeGreaterThan(0);
    await s.expectTargetEqualsSource();
    expectEachEventOnce(await s.auditLog());
    await recovers(s);
  });
});
