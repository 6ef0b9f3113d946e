import { describe, expect, it } from 'vitest';
import { tableSchema } from '../../../lambdas/config';
import type { StepDeps } from '../../../lambdas/deps';
import { sealEvent } from '../../../lambdas/domain/audit';
import { type DeleteMode, INCOMPLETE_CHECK } from '../../../lambdas/domain/deletes';
import { DeleteCheckError, WarehouseUnavailableError } from '../../../lambdas/domain/errors';
import { jobEvent } from '../../../lambdas/domain/job-events';
import { fakeDeps, runStep } from '../../support/fakes';

const UPPER = '2025-01-01T11:59:00.000Z';

async function setup(
  deletes: DeleteMode | undefined,
  pipeline: 'incremental' | 'historical' = 'incremental',
) {
  const context = fakeDeps(undefined, { firstIncremental: 'whole-table' });
  const table = tableSchema.parse({
    name: 'orders',
    primaryKey: 'id',
    cursorColumn: 'updated_at',
    ...(deletes ? { deletes } : {}),
  });
  const deps: StepDeps = { ...context.deps, config: { ...context.deps.config, tables: [table] } };
  const out = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline, tables: ['orders'] } },
    deps,
  );
  const state = {
    work: out.tables[0]!,
    executionId: 'exec-1',
    count: { sourceCount: 1 },
    export: { sourceCount: 1, rows: 1, rawBytes: 1, compressedBytes: 1, keys: ['k'], upper: UPPER },
    load: { rowsParsed: 1, rowsLoaded: 1, inserted: 1, updated: 0, files: 1 },
    verify: { targetCount: 1, countMatch: true as const },
    values: {
      mode: 'full' as const,
      segments: 2,
      checksumsCompared: 1,
      mismatches: 0,
      extraKeys: 0,
      skipped: [],
    },
  };
  // The target holds keys 1, 2 and 3; the source holds 1 below the bound, and 3 above it (updated since).
  context.source.sums = [{ segment: '0a', rows: 1, sum: '1' }];
  context.warehouse.sums = [{ segment: '0a', rows: 3, sum: '6' }];
  context.source.digests = [{ key: '1', row: 'r1', columns: ['c1'] }];
  context.warehouse.digests = ['1', '2', '3'].map((key) => ({ key, row: `r${key}`, columns: [`c${key}`] }));
  context.source.present.add('3');
  return {
    ...context,
    state,
    run: (s: Record<string, unknown> = state) =>
      runStep('checkDeletes', { executionId: 'exec-1', attempt: 0, state: s }, deps),
  };
}

/** The deletes event of a check an hour before the fakes' clock, as AuditSuccess writes it. */
function pastCheck(errorType: string | null) {
  const at = new Date('2025-01-01T11:00:00.000Z');
  const job = {
    jobId: 'j0',
    executionId: 'exec-0',
    pipeline: 'incremental' as const,
    startedAt: at.toISOString(),
  };
  const table = {
    sourceTable: 'public.orders',
    targetTable: 'DB.PUBLIC.ORDERS',
    window: { from: null, to: UPPER },
  };
  return sealEvent({ ...jobEvent(job, 'deletes', table), status: 'SUCCEEDED', errorType }, null, at);
}

describe('checkDeletes', () => {
  it('does nothing with deletes off (the default)', async () => {
    const { run, warehouse, audit } = await setup(undefined);
    expect(await run()).toEqual({
      ran: false,
      mode: 'off',
      reason: 'deletes: off',
      stepMs: expect.any(Number),
    });
    expect(warehouse.changed).toEqual([]);
    expect(audit.reads.some((r) => r.eventTypes?.includes('deletes'))).toBe(false);
  });

  it('does nothing in a historical job, which leaves the target equal to the source', async () => {
    const { run } = await setup('propagate', 'historical');
    expect(await run()).toMatchObject({ ran: false, mode: 'propagate' });
  });

  it('deletes from the target the keys gone from the whole source, not a key updated past the bound', async () => {
    const { run, warehouse } = await setup('propagate');
    const out = await run();
    expect(out).toEqual({
      ran: true,
      mode: 'propagate',
      bound: UPPER,
      sourceRows: 1,
      targetRows: 3,
      found: 1,
      handled: 1,
      missing: 0,
      keys: ['(id)=(2)'],
      incomplete: false,
      stepMs: expect.any(Number),
    });
    expect(warehouse.changed).toEqual([{ kind: 'delete', table: 'orders', keys: ['2'] }]);
  });

  it.each([
    ['propagate', 'delete', 'deleteKeys'],
    ['soft', 'mark', 'markDeleted'],
  ] as const)(
    '%s: counts the keys an attempt handled whose answer was lost, when its retry no longer sees them',
    async (mode, kind, method) => {
      const { run, warehouse, stage } = await setup(mode);
      const change = warehouse[method].bind(warehouse);
      // The first attempt's statement commits, then its answer is lost.
      warehouse[method] = async (...args) => {
        await change(...args);
        throw new WarehouseUnavailableError('connection reset after the statement committed');
      };
      await expect(run()).rejects.toThrow(WarehouseUnavailableError);
      // The target no longer shows key 2; the retry's comparison finds no key gone from the source.
      warehouse[method] = change;
      warehouse.digests = ['1', '3'].map((key) => ({ key, row: `r${key}`, columns: [`c${key}`] }));
      warehouse.sums = [{ segment: '0a', rows: 2, sum: '4' }];
      warehouse.changes = 0;
      expect(await run()).toMatchObject({ ran: true, found: 1, handled: 1, keys: ['(id)=(2)'] });
      expect(warehouse.changed).toEqual([
        { kind, table: 'orders', keys: ['2'] },
        { kind, table: 'orders', keys: ['2'] },
      ]);
      expect([...stage.json.keys()].filter((k) => k.endsWith('/deletes.json'))).toHaveLength(1);
    },
  );

  it('marks the keys in soft mode and only lists them in report mode', async () => {
    const soft = await setup('soft');
    expect(await soft.run()).toMatchObject({ ran: true, found: 1, handled: 1 });
    expect(soft.warehouse.changed).toEqual([{ kind: 'mark', table: 'orders', keys: ['2'] }]);
    const report = await setup('report');
    expect(await report.run()).toMatchObject({ ran: true, found: 1, handled: 0, keys: ['(id)=(2)'] });
    expect(report.warehouse.changed).toEqual([]);
  });

  it('fails with DeleteCheckError when the target changed fewer rows than keys were found', async () => {
    const { run, warehouse } = await setup('propagate');
    warehouse.changes = 0;
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeleteCheckError);
    expect((error as Error).message).toContain('1 key(s) are gone from the source');
  });

  it('reads only the newest deletes event of the table, and waits for the cadence after it', async () => {
    const { run, audit, warehouse } = await setup('propagate');
    audit.events.push(pastCheck(null));
    expect(await run()).toEqual({
      ran: false,
      mode: 'propagate',
      reason: 'not due until 2025-01-02T11:00:00.000Z (every P1D)',
      stepMs: expect.any(Number),
    });
    expect(warehouse.changed).toEqual([]);
    const reads = audit.reads.filter((r) => r.eventTypes?.includes('deletes'));
    expect(reads).toEqual([{ sourceTables: ['public.orders'], eventTypes: ['deletes'], newest: 1 }]);
  });

  it('checks again at once after an incomplete check that handled keys, but a report waits for the cadence', async () => {
    const incomplete = pastCheck(INCOMPLETE_CHECK);
    const propagate = await setup('propagate');
    propagate.audit.events.push(incomplete);
    expect(await propagate.run()).toMatchObject({ ran: true, found: 1 });
    const report = await setup('report');
    report.audit.events.push(incomplete);
    expect(await report.run()).toMatchObject({
      ran: false,
      reason: expect.stringContaining('not due until'),
    });
  });
});
