import { describe, expect, it } from 'vitest';
import { type AuditEvent, verifyChain } from '../../../lambdas/domain/audit';
import { CountMismatchError, WarehouseUnavailableError } from '../../../lambdas/domain/errors';
import { readStepDurations } from '../../../lambdas/domain/step-durations';
import type { TableState } from '../../../lambdas/steps/contract';
import { fakeDeps, runStep } from '../../support/fakes';

async function planned() {
  const start = new Date('2025-01-01T12:00:00.000Z');
  let now = start;
  const env = fakeDeps();
  const deps = { ...env.deps, now: () => now };
  const out = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline: 'historical' } },
    deps,
  );
  now = new Date(start.getTime() + 4_250);
  const state = (i: number): TableState => ({
    work: out.tables[i]!,
    executionId: 'exec-1',
    count: { sourceCount: 10 },
    export: { sourceCount: 10, rows: 10, rawBytes: 500, compressedBytes: 120, keys: ['a', 'b'], upper: null },
    load: { rowsParsed: 10, rowsLoaded: 10, inserted: null, updated: null, files: 2 },
  });
  return { ...env, deps, out, state };
}

describe('verifyCounts', () => {
  it('throws a CountMismatchError naming the target stage when a target row is missing', async () => {
    const { deps, warehouse, state } = await planned();
    warehouse.targetCount = 9;
    const err = await runStep(
      'verifyCounts',
      { executionId: 'exec-1', attempt: 0, state: state(0) },
      deps,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(CountMismatchError);
    expect(err.message).toContain("stage 'target'");
  });

  it('passes when every stage saw the same count', async () => {
    const { deps, warehouse, state } = await planned();
    warehouse.targetCount = 10;
    await expect(
      runStep('verifyCounts', { executionId: 'exec-1', attempt: 0, state: state(0) }, deps),
    ).resolves.toEqual({
      targetCount: 10,
      countMatch: true,
      stepMs: expect.any(Number),
    });
  });
});

describe('writeAudit', () => {
  it("closes each table of an execution with its own result, whatever the others' results", async () => {
    const { deps, audit, state } = await planned();
    for (const i of [0, 1]) {
      const s = { ...state(i), verify: { targetCount: 10, countMatch: true as const } };
      await runStep('writeAudit', { mode: 'success', executionId: 'exec-1', attempt: 0, state: s }, deps);
    }
    const successes = audit.events.filter((e) => e.eventType === 'success');
    expect(successes.map((e) => e.sourceTable)).toEqual(['public.orders', 'public.customers']);
  });

  it('keeps the result in S3 while the warehouse is down, and its retry delivers that result, not a second', async () => {
    const { deps, audit, stage, state } = await planned();
    const s = { ...state(0), verify: { targetCount: 10, countMatch: true as const } };
    const read = audit.read.bind(audit);
    let down = true;
    audit.read = async (filter) => {
      if (down) throw new WarehouseUnavailableError('Snowflake could not be reached');
      return read(filter);
    };
    const event = { mode: 'success' as const, executionId: 'exec-1', state: s };
    await expect(runStep('writeAudit', { ...event, attempt: 0 }, deps)).rejects.toBeInstanceOf(
      WarehouseUnavailableError,
    );
    const undelivered = () =>
      (stage.json.get('tally/audit/tail.json') as { undelivered: AuditEvent[] }).undelivered;
    const pending = undelivered();
    expect(pending.map((e) => e.eventType)).toEqual(['success']);
    down = false;
    await runStep('writeAudit', { ...event, attempt: 1 }, deps);
    const job = audit.events.filter((e) => e.jobId === s.work.jobId && e.sourceTable === s.work.table);
    expect(job.map((e) => e.eventType)).toEqual(['start', 'success', 'retry']);
    expect(job[1]?.eventId).toBe(pending[0]?.eventId);
    expect(verifyChain(audit.events)).toBeNull();
    expect(undelivered()).toEqual([]);
  });

  it('closes a table with a success event carrying counts and duration, chained and mirrored to S3', async () => {
    const { deps, audit, stage, state } = await planned();
    const s = { ...state(0), verify: { targetCount: 10, countMatch: true as const } };
    const out = await runStep(
      'writeAudit',
      { mode: 'success', executionId: 'exec-1', attempt: 0, state: s },
      deps,
    );
    expect(out).toEqual({ table: 'public.orders', status: 'succeeded' });
    const success = audit.events.at(-1)!;
    expect(success).toMatchObject({
      eventType: 'success',
      status: 'SUCCEEDED',
      recordCountBefore: 10,
      rowsExported: 10,
      files: 2,
      bytes: 120,
      rowsParsed: 10,
      rowsLoaded: 10,
      recordCountAfter: 10,
      countMatch: true,
      durationMs: 4250,
      targetTable: 'DB.PUBLIC.ORDERS',
    });
    expect(verifyChain(audit.events)).toBeNull();
    expect(stage.json.get(`tally/audit/${success.jobId}/public.orders/${success.eventId}.json`)).toEqual(
      success,
    );
  });

  it('writes a delete check that ran as its own deletes event beside the success, once across retries', async () => {
    const { deps, audit, state } = await planned();
    const deletes = {
      ran: true as const,
      mode: 'propagate' as const,
      bound: '2025-01-01T11:59:00.000Z',
      sourceRows: 8,
      targetRows: 10,
      found: 2,
      handled: 2,
      missing: 0,
      keys: ['(id)=(3)', '(id)=(7)'],
      incomplete: false,
    };
    const s = { ...state(0), verify: { targetCount: 10, countMatch: true as const }, deletes };
    const event = { mode: 'success' as const, executionId: 'exec-1', state: s };
    await runStep('writeAudit', { ...event, attempt: 0 }, deps);
    await runStep('writeAudit', { ...event, attempt: 1 }, deps);
    const job = audit.events.filter((e) => e.sourceTable === 'public.orders');
    expect(job.map((e) => e.eventType)).toEqual(['start', 'deletes', 'success', 'retry']);
    const message =
      'deletes (propagate): 2 key(s) gone from the source below 2025-01-01T11:59:00.000Z, 2 deleted from the target: (id)=(3), (id)=(7)';
    expect(job[1]).toMatchObject({
      status: 'SUCCEEDED',
      windowStart: null,
      windowEnd: '2025-01-01T11:59:00.000Z',
      recordCountBefore: 8,
      recordCountAfter: 10,
      rowsParsed: 2,
      rowsLoaded: 2,
      errorType: null,
      errorMessage: message,
    });
    // The success carries the check's summary too, with the steps' durations after it.
    expect(readStepDurations(job[2]?.errorMessage ?? null).message).toBe(message);
    expect(verifyChain(audit.events)).toBeNull();
  });

  it('marks the deletes event of a check that left keys for the next, and writes none for a check that did not run', async () => {
    const { deps, audit, state } = await planned();
    const verify = { targetCount: 10, countMatch: true as const };
    const ran = {
      ran: true as const,
      mode: 'report' as const,
      bound: '2025-01-01T11:59:00.000Z',
      sourceRows: 0,
      targetRows: 1500,
      found: 1000,
      handled: 0,
      missing: 0,
      keys: [],
      incomplete: true,
    };
    await runStep(
      'writeAudit',
      { mode: 'success', executionId: 'exec-1', attempt: 0, state: { ...state(0), verify, deletes: ran } },
      deps,
    );
    const notDue = {
      ran: false as const,
      mode: 'report' as const,
      reason: 'not due until 2025-01-02T12:00:00.000Z (every P1D)',
    };
    await runStep(
      'writeAudit',
      { mode: 'success', executionId: 'exec-1', attempt: 0, state: { ...state(1), verify, deletes: notDue } },
      deps,
    );
    const checks = audit.events.filter((e) => e.eventType === 'deletes');
    expect(checks.map((e) => [e.sourceTable, e.errorType])).toEqual([
      ['public.orders', 'DeleteCheckIncomplete'],
    ]);
    expect(checks[0]?.errorMessage).toContain('more differ than one check handles');
    const success = audit.events.find(
      (e) => e.eventType === 'success' && e.sourceTable === 'public.customers',
    );
    expect(readStepDurations(success?.errorMessage ?? null).message).toBe(
      'deletes not checked: not due until 2025-01-02T12:00:00.000Z (every P1D)',
    );
  });

  it('keeps the volume guard warning on the success event', async () => {
    const { deps, audit, state } = await planned();
    const warning = 'public.orders: window holds 0 rows, below 10% of the recent median of 40';
    const s = { ...state(0), verify: { targetCount: 10, countMatch: true as const, volumeWarning: warning } };
    await runStep('writeAudit', { mode: 'success', executionId: 'exec-1', attempt: 0, state: s }, deps);
    expect(audit.events.at(-1)).toMatchObject({
      eventType: 'success',
      status: 'SUCCEEDED',
      errorType: 'VolumeWarning',
    });
    expect(readStepDurations(audit.events.at(-1)?.errorMessage ?? null).message).toBe(warning);
  });

  it('records the error of a failed table from a Lambda error cause', async () => {
    const { deps, warehouse, audit, state } = await planned();
    warehouse.targetCount = 9;
    const cause = JSON.stringify({ errorType: 'CountMismatchError', errorMessage: 'counts do not close' });
    const s = { ...state(1), error: { Error: 'CountMismatchError', Cause: cause } };
    const out = await runStep(
      'writeAudit',
      { mode: 'failure', executionId: 'exec-1', attempt: 0, state: s },
      deps,
    );
    // The outcome says where and why, for the alert: the state has no verify result, so VerifyCounts.
    expect(out).toEqual({
      table: 'public.customers',
      status: 'failed',
      failure: { stage: 'VerifyCounts', error: 'CountMismatchError', message: 'counts do not close' },
    });
    expect(audit.events.at(-1)).toMatchObject({
      eventType: 'failure',
      status: 'FAILED',
      errorType: 'CountMismatchError',
      countMatch: false,
      recordCountBefore: 10,
      recordCountAfter: 9,
    });
    // The message is the error's, with the durations of the steps that ran at its end.
    const { message, durations } = readStepDurations(audit.events.at(-1)?.errorMessage ?? null);
    expect(message).toBe('counts do not close');
    expect(Object.keys(durations)).toEqual(['WriteAudit']);
  });

  it("carries each step's duration on the success event, as the steps' results recorded them", async () => {
    const { deps, audit, state } = await planned();
    const base = state(0);
    const checked = { mode: 'full', segments: 2, checksumsCompared: 1, mismatches: 0, extraKeys: 0 } as const;
    const s: TableState = {
      ...base,
      count: { sourceCount: 10, stepMs: 12 },
      export: { ...base.export!, stepMs: 3_400 },
      load: { ...base.load!, stepMs: 810 },
      verify: { targetCount: 10, countMatch: true, stepMs: 95 },
      values: { ...checked, skipped: [], stepMs: 420 },
      deletes: { ran: false, mode: 'off', reason: 'deletes is off', stepMs: 7 },
    };
    await runStep('writeAudit', { mode: 'success', executionId: 'exec-1', attempt: 0, state: s }, deps);
    const success = audit.events.at(-1) as AuditEvent;
    expect(success.errorMessage).toMatch(
      /^values verified \(full\): .* \[step ms: CountSource=12 ExportToS3=3400 LoadSnowflake=810 VerifyCounts=95 VerifyValues=420 CheckDeletes=7 WriteAudit=\d+\]$/,
    );
    const { message, durations } = readStepDurations(success.errorMessage);
    expect(message).toMatch(/^values verified \(full\)/);
    expect(durations).toMatchObject({
      CountSource: 12,
      ExportToS3: 3_400,
      LoadSnowflake: 810,
      VerifyCounts: 95,
      VerifyValues: 420,
      CheckDeletes: 7,
    });
    expect(durations.WriteAudit).toBeGreaterThanOrEqual(0);
    expect(verifyChain(audit.events)).toBeNull();
  });

  it('records a table another execution held as skipped, not failed, and leaves that execution its lease', async () => {
    const { deps, audit, leases, out: plan, state } = await planned();
    await leases.acquire('public.customers', 'exec-0', deps.now(), 60_000);
    const cause = JSON.stringify({
      errorType: 'TableBusyError',
      errorMessage: 'public.customers is being loaded by execution exec-0',
    });
    const s = { ...state(1), error: { Error: 'TableBusyError', Cause: cause } };
    const out = await runStep(
      'writeAudit',
      { mode: 'failure', executionId: 'exec-1', attempt: 0, state: s },
      deps,
    );
    expect(out).toEqual({ table: 'public.customers', status: 'skipped' });
    expect(audit.events.at(-1)).toMatchObject({
      eventType: 'skipped',
      status: 'SKIPPED',
      errorType: 'TableBusyError',
      alertTriggered: false,
    });
    expect(audit.events.some((e) => e.eventType === 'failure')).toBe(false);
    expect(leases.leases.get('public.customers')?.executionId).toBe('exec-0');
    // The run's alert step finds nothing to alert for a skipped table.
    await expect(
      runStep(
        'writeAudit',
        { mode: 'alert', executionId: 'exec-1', attempt: 0, state: { ...plan, outcomes: [out] } },
        deps,
      ),
    ).resolves.toEqual({ alerted: 0 });
    expect(verifyChain(audit.events)).toBeNull();
  });

  it('counts the retries of the job on its closing event', async () => {
    const { deps, audit, state } = await planned();
    await runStep('verifyCounts', { executionId: 'exec-1', attempt: 1, state: state(0) }, deps).catch(
      () => undefined,
    );
    const s = { ...state(0), verify: { targetCount: 10, countMatch: true as const } };
    await runStep('writeAudit', { mode: 'success', executionId: 'exec-1', attempt: 0, state: s }, deps);
    expect(audit.events.map((e) => [e.eventType, e.retryCount])).toEqual([
      ['start', 0],
      ['start', 0],
      ['retry', 1],
      ['success', 1],
    ]);
  });

  it('writes one alert event per failed table', async () => {
    const { deps, audit, out } = await planned();
    const runState = {
      ...out,
      outcomes: [
        { table: 'public.orders', status: 'succeeded' as const },
        { table: 'public.customers', status: 'failed' as const },
      ],
    };
    await expect(
      runStep('writeAudit', { mode: 'alert', executionId: 'exec-1', attempt: 0, state: runState }, deps),
    ).resolves.toEqual({ alerted: 1 });
    const alerts = audit.events.filter((e) => e.eventType === 'alert');
    expect(alerts.map((e) => [e.sourceTable, e.status, e.alertTriggered])).toEqual([
      ['public.customers', 'ALERTED', true],
    ]);
    expect(verifyChain(audit.events)).toBeNull();
  });
});
