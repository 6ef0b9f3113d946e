import { describe, expect, it } from 'vitest';
import { sealEvent } from '../../../lambdas/domain/audit';
import { InvalidInputError, SourceSchemaError, SourceUnavailableError } from '../../../lambdas/domain/errors';
import { fakeDeps, runStep } from '../../support/fakes';

const event = (state: unknown, attempt = 0) => ({ executionId: 'exec-1', attempt, state });

describe('plan', () => {
  it('rejects a malformed input with an InvalidInputError naming the field', async () => {
    const { deps } = fakeDeps();
    const err = await runStep('plan', event({ pipeline: 'weekly' }), deps).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('input.pipeline');
  });

  it('rejects a table that is not configured, naming it', async () => {
    const { deps } = fakeDeps();
    const err = await runStep('plan', event({ pipeline: 'historical', tables: ['nope'] }), deps).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain("input.tables.0: 'nope'");
  });

  it('plans every configured table over the whole table and writes one start event each', async () => {
    const { deps, warehouse, audit } = fakeDeps();
    const out = await runStep('plan', event({ pipeline: 'historical' }), deps);
    expect(out.tables.map((t) => [t.table, t.window])).toEqual([
      ['public.orders', { from: null, to: null }],
      ['public.customers', { from: null, to: null }],
    ]);
    expect(new Set(out.tables.map((t) => t.jobId)).size).toBe(1);
    expect(warehouse.bootstrapped).toEqual(['orders', 'customers']);
    expect(audit.events.map((e) => [e.eventType, e.sourceTable, e.executionId])).toEqual([
      ['start', 'public.orders', 'exec-1'],
      ['start', 'public.customers', 'exec-1'],
    ]);
  });

  it('starts an incremental window at the last verified watermark minus the lookback, open above for the export to bound', async () => {
    const { deps, audit } = fakeDeps(new Date('2025-01-01T12:00:00.000Z'));
    const base = (await runStep('plan', event({ pipeline: 'historical', tables: ['orders'] }), deps))
      .tables[0]!;
    const success = (windowEnd: string, createdAt: string) =>
      sealEvent(
        {
          ...audit.events[0]!,
          eventType: 'success',
          status: 'SUCCEEDED',
          windowEnd,
          createdAt,
        },
        null,
      );
    audit.events.push(
      success('2025-01-01T10:00:00.000Z', '2025-01-01T10:01:00.000Z'),
      success('2025-01-01T11:00:00.000Z', '2025-01-01T11:01:00.000Z'),
    );
    const out = await runStep(
      'plan',
      event({ pipeline: 'incremental', tables: [base.table, 'customers'] }),
      deps,
    );
    expect(out.tables.map((t) => t.window)).toEqual([
      { from: '2025-01-01T10:55:00.000Z', to: null },
      { from: null, to: null },
    ]);
  });

  it('records a retry event before planning again', async () => {
    const { deps, audit } = fakeDeps();
    await runStep('plan', event({ pipeline: 'historical', tables: ['orders'] }, 2), deps);
    expect(audit.events.map((e) => [e.eventType, e.retryCount, e.retryStatus])).toEqual([
      ['retry', 2, 'retrying'],
      ['start', 0, null],
    ]);
  });

  it('records a failure event naming a missing source table, then fails', async () => {
    const { deps, audit, source } = fakeDeps();
    source.missing.add('customers');
    const err = await runStep('plan', event({ pipeline: 'historical' }), deps).catch((e) => e);
    expect(err).toBeInstanceOf(SourceSchemaError);
    expect(audit.events.map((e) => [e.eventType, e.sourceTable, e.errorType])).toEqual([
      ['failure', 'public.customers', 'SourceSchemaError'],
    ]);
  });

  it('records a transient failure only on the last attempt the Retry allows', async () => {
    const { deps, audit, source } = fakeDeps();
    source.resolve = async () => {
      throw new SourceUnavailableError('connection refused');
    };
    const attemptAt = (attempt: number) =>
      runStep('plan', { ...event({ pipeline: 'incremental' }, attempt), maxAttempts: 2 }, deps).catch(
        (e) => e,
      );
    expect(await attemptAt(0)).toBeInstanceOf(SourceUnavailableError);
    expect(await attemptAt(1)).toBeInstanceOf(SourceUnavailableError);
    expect(audit.events.map((e) => e.eventType)).toEqual(['retry']);
    expect(await attemptAt(2)).toBeInstanceOf(SourceUnavailableError);
    expect(audit.events.map((e) => [e.eventType, e.status, e.errorType])).toEqual([
      ['retry', 'RETRYING', null],
      ['retry', 'RETRYING', null],
      ['failure', 'FAILED', 'SourceUnavailableError'],
    ]);
  });

  it('does not write a second start event when retried after the first attempt wrote them', async () => {
    const { deps, audit } = fakeDeps();
    const first = await runStep('plan', event({ pipeline: 'historical' }), deps);
    const again = await runStep('plan', event({ pipeline: 'historical' }, 1), deps);
    expect(again.tables.map((t) => t.jobId)).toEqual(first.tables.map((t) => t.jobId));
    expect(audit.events.map((e) => [e.eventType, e.sourceTable])).toEqual([
      ['start', 'public.orders'],
      ['start', 'public.customers'],
      ['retry', null],
    ]);
  });
});

describe('plan and a target that drifted from its source', () => {
  it('records how the target differs, and every step of that table then refuses it by name', async () => {
    const { deps, warehouse } = fakeDeps();
    warehouse.drift.set('orders', [
      'column "NOTE" (VARCHAR(134217728)) is not in the target: added at the source?',
    ]);
    const out = await runStep('plan', event({ pipeline: 'historical' }), deps);
    expect(out.tables.map((t) => [t.table, t.drift])).toEqual([
      ['public.orders', ['column "NOTE" (VARCHAR(134217728)) is not in the target: added at the source?']],
      ['public.customers', undefined],
    ]);
    const state = { work: out.tables[0]!, executionId: 'exec-1' };
    await expect(
      runStep('countSource', { executionId: 'exec-1', attempt: 0, state }, deps),
    ).rejects.toMatchObject({
      name: 'SchemaDriftError',
      message: expect.stringContaining('public.orders: the Snowflake target no longer matches the source'),
    });
    const other = { work: out.tables[1]!, executionId: 'exec-1' };
    await expect(
      runStep('countSource', { executionId: 'exec-1', attempt: 0, state: other }, deps),
    ).resolves.toEqual({
      sourceCount: 0,
      stepMs: expect.any(Number),
    });
  });
});

describe('plan and the first incremental run of a table', () => {
  it('refuses a table with no verified window by name, saying to run its historical load first', async () => {
    const { deps, audit, leases } = fakeDeps();
    const out = await runStep('plan', event({ pipeline: 'incremental', tables: ['orders'] }), deps);
    expect(out.tables[0]).toMatchObject({ table: 'public.orders', noWatermark: true });
    const state = { work: out.tables[0]!, executionId: 'exec-1' };
    await expect(
      runStep('countSource', { executionId: 'exec-1', attempt: 0, state }, deps),
    ).rejects.toMatchObject({
      name: 'NoWatermarkError',
      message: expect.stringContaining(
        'public.orders: no verified window yet, and an incremental run does not export a whole table: run the historical pipeline for it first',
      ),
    });
    // Refused before the table is taken: nothing holds it and no retry was recorded.
    expect(leases.leases.size).toBe(0);
    expect(audit.events.map((e) => e.eventType)).toEqual(['start']);
  });

  it("exports the whole table as the first window when pipeline.firstIncremental is 'whole-table'", async () => {
    const { deps } = fakeDeps(undefined, { firstIncremental: 'whole-table' });
    const out = await runStep('plan', event({ pipeline: 'incremental', tables: ['orders'] }), deps);
    expect(out.tables[0]?.noWatermark).toBeUndefined();
    expect(out.tables[0]?.window).toEqual({ from: null, to: null });
    const state = { work: out.tables[0]!, executionId: 'exec-1' };
    await expect(runStep('countSource', { executionId: 'exec-1', attempt: 0, state }, deps)).resolves.toEqual(
      { sourceCount: 0, stepMs: expect.any(Number) },
    );
  });

  it('never refuses a historical run, which has no watermark to start from', async () => {
    const { deps } = fakeDeps();
    const out = await runStep('plan', event({ pipeline: 'historical', tables: ['orders'] }), deps);
    expect(out.tables[0]?.noWatermark).toBeUndefined();
  });
});
