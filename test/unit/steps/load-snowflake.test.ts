import { describe, expect, it } from 'vitest';
import type { TableState } from '../../../lambdas/steps/contract';
import { fakeDeps, runStep } from '../../support/fakes';

/** A planned table whose export wrote `rows` rows into one part file. */
async function exported(pipeline: 'historical' | 'incremental', rows: number) {
  // An incremental window with no history behind it: the first one, exported whole.
  const env = fakeDeps(undefined, { firstIncremental: 'whole-table' });
  const plan = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline, tables: ['orders'] } },
    env.deps,
  );
  const state: TableState = {
    work: plan.tables[0]!,
    executionId: 'exec-1',
    export: {
      sourceCount: rows,
      rows,
      rawBytes: 10,
      compressedBytes: 10,
      keys: ['tally/staging/p'],
      upper: null,
    },
  };
  const load = () => runStep('loadSnowflake', { executionId: 'exec-1', attempt: 0, state }, env.deps);
  return { ...env, load };
}

describe('loadSnowflake', () => {
  it('replaces the target with an empty historical export, so a table emptied at the source empties it', async () => {
    const { warehouse, load } = await exported('historical', 0);
    await load();
    expect(warehouse.loads).toEqual([{ kind: 'replace', table: 'orders', keys: ['tally/staging/p'] }]);
  });

  it('merges nothing for an empty incremental window', async () => {
    const { warehouse, load } = await exported('incremental', 0);
    expect(await load()).toEqual({
      rowsParsed: 0,
      rowsLoaded: 0,
      inserted: 0,
      updated: 0,
      files: 0,
      stepMs: expect.any(Number),
    });
    expect(warehouse.loads).toEqual([]);
  });

  it('merges a non-empty incremental window and replaces with a non-empty historical export', async () => {
    const incremental = await exported('incremental', 3);
    await incremental.load();
    const historical = await exported('historical', 3);
    await historical.load();
    expect([...incremental.warehouse.loads, ...historical.warehouse.loads].map((l) => l.kind)).toEqual([
      'merge',
      'replace',
    ]);
  });
});
