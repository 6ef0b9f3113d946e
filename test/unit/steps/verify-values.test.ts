import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config';
import { ValueMismatchError } from '../../../lambdas/domain/errors';
import { valueCheckMode, verifiedSlice } from '../../../lambdas/steps/verify-values';
import { failedStage } from '../../../lambdas/steps/write-audit';
import { config, fakeDeps, runStep } from '../../support/fakes';

async function setup(rows: number) {
  const context = fakeDeps(undefined, { firstIncremental: 'whole-table' });
  const out = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline: 'incremental', tables: ['orders'] } },
    context.deps,
  );
  const state = {
    work: out.tables[0]!,
    executionId: 'exec-1',
    count: { sourceCount: rows },
    export: {
      sourceCount: rows,
      rows,
      rawBytes: 1,
      compressedBytes: 1,
      keys: ['k'],
      upper: '2025-01-01T11:59:00.000Z',
    },
    load: { rowsParsed: rows, rowsLoaded: rows, inserted: rows, updated: 0, files: 1 },
    verify: { targetCount: rows, countMatch: true as const },
  };
  return {
    ...context,
    state,
    run: () => runStep('verifyValues', { executionId: 'exec-1', attempt: 0, state }, context.deps),
  };
}

describe('verifyValues', () => {
  it('passes equal sides with its figures', async () => {
    const { source, warehouse, run } = await setup(2);
    const sums = [{ segment: '0a', rows: 2, sum: '12345' }];
    source.sums = sums;
    warehouse.sums = sums;
    expect(await run()).toEqual({
      mode: 'full',
      segments: 2,
      checksumsCompared: 1,
      mismatches: 0,
      extraKeys: 0,
      skipped: [],
      stepMs: expect.any(Number),
    });
  });

  it('fails with ValueMismatchError naming the key and column whose values differ', async () => {
    const { source, warehouse, run } = await setup(1);
    source.sums = [{ segment: '0a', rows: 1, sum: '1' }];
    warehouse.sums = [{ segment: '0a', rows: 1, sum: '2' }];
    source.digests = [{ key: '7', row: 'r1', columns: ['x'] }];
    warehouse.digests = [{ key: '7', row: 'r2', columns: ['y'] }];
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValueMismatchError);
    expect((error as Error).message).toContain('(id)=(7) in id');
  });

  it('is placed at VerifyValues when it fails after the counts closed', async () => {
    const { state } = await setup(1);
    expect(failedStage({ ...state, error: { Error: 'ValueMismatchError' } })).toBe('VerifyValues');
  });

  it('compares the rows below the export upper bound', async () => {
    const { state } = await setup(1);
    expect(verifiedSlice(state)).toEqual({
      kind: 'window',
      window: { from: state.work.window.from, to: '2025-01-01T11:59:00.000Z' },
    });
  });
});

describe('valueCheckMode', () => {
  const withTables = parseConfig({
    ...config,
    tables: [
      { name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' },
      { name: 'customers', primaryKey: 'id', cursorColumn: 'updated_at', verifyValues: 'off' },
    ],
    pipeline: { ...config.pipeline, valueCheck: { fullUpToRows: 100 } },
  });
  it('checks every row up to the configured size, a sample beyond, and what a table sets', () => {
    expect(valueCheckMode(withTables, 'public.orders', 100)).toBe('full');
    expect(valueCheckMode(withTables, 'public.orders', 101)).toBe('sampled');
    expect(valueCheckMode(withTables, 'public.customers', 1)).toBe('off');
  });
});
