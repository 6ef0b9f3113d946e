import { describe, expect, it } from 'vitest';
import { chunkItemsKey, chunkLoadKey, swapRecordKey } from '../../../lambdas/steps/chunks';
import type { SwapRecord, TableState } from '../../../lambdas/steps/contract';
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

/** A chunked historical load of two chunks, exported, each chunk's load recorded unless `missing`. */
async function chunkedLoad(options: { readonly missing?: number } = {}) {
  const env = fakeDeps();
  const plan = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline: 'historical', tables: ['orders'] } },
    env.deps,
  );
  const work = plan.tables[0]!;
  const state: TableState = {
    work,
    executionId: 'exec-1',
    count: {
      sourceCount: null,
      chunks: { count: 2, bucket: 'bucket', itemsKey: chunkItemsKey(env.deps, work), estimatedRows: 0 },
    },
    export: {
      sourceCount: 0,
      rows: 0,
      rawBytes: 0,
      compressedBytes: 0,
      keys: [],
      upper: null,
      chunks: { count: 2, files: 2 },
    },
  };
  for (const index of [0, 1]) {
    if (index === options.missing) continue;
    await env.stage.putJson(chunkLoadKey(env.deps, work, index), {
      index,
      rowsParsed: 0,
      rowsLoaded: 0,
      files: 1,
      skippedFiles: 0,
    });
  }
  const step = (stateName: string) =>
    runStep('loadSnowflake', { executionId: 'exec-1', attempt: 0, state, stateName }, env.deps);
  await step('PrepareCopy');
  const swapRecord = () => env.stage.getJson(swapRecordKey(env.deps, work));
  const putSwapRecord = (record: SwapRecord) => env.stage.putJson(swapRecordKey(env.deps, work), record);
  return { ...env, swap: () => step('LoadSnowflake'), swapRecord, putSwapRecord };
}

describe('loadSnowflake, the swap of a chunked load', () => {
  it('swaps once, recording before and after, and a retry that finds it done does not swap back', async () => {
    const { warehouse, swap, swapRecord } = await chunkedLoad();
    expect(await swap()).toEqual({
      rowsParsed: 0,
      rowsLoaded: 0,
      inserted: null,
      updated: null,
      files: 2,
      stepMs: expect.any(Number),
    });
    expect(warehouse.copies).toEqual([{ table: 'orders', chunks: [], swapped: true }]);
    expect(await swapRecord()).toEqual({ phase: 'swapped', copyRows: 0, targetRows: 0 });
    warehouse.copies[0]!.swapped = false;
    await swap();
    expect(warehouse.copies[0]?.swapped).toBe(false);
  });

  it('refuses a retry that finds only the intent when the counts cannot tell whether the swap happened', async () => {
    const { warehouse, swap, putSwapRecord } = await chunkedLoad();
    await putSwapRecord({ phase: 'swapping', copyRows: 0, targetRows: 0 });
    await expect(swap()).rejects.toThrow(/cannot be told whether it happened/);
    expect(warehouse.copies[0]?.swapped).toBe(false);
  });

  it('swaps nothing when a chunk left no record of its load, naming the chunk', async () => {
    const { warehouse, swap } = await chunkedLoad({ missing: 1 });
    await expect(swap()).rejects.toThrow(/chunk 1 of 2 left no record of its load/);
    expect(warehouse.copies[0]?.swapped).toBe(false);
  });
});
