import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config';
import { sealEvent } from '../../../lambdas/domain/audit';
import { VolumeAnomalyError } from '../../../lambdas/domain/errors';
import { config, fakeDeps, runStep } from '../../support/fakes';

/** A verified incremental window of `rows` rows for orders, after `history` earlier ones. */
async function setup(rows: number, history: number[], mode?: 'warn' | 'alert' | 'off') {
  // The table's history is pushed after Plan ran, so Plan sees no watermark: let it plan the first window.
  const { deps, warehouse, audit } = fakeDeps(undefined, { firstIncremental: 'whole-table' });
  const withMode = mode
    ? {
        ...deps,
        config: parseConfig({ ...config, pipeline: { ...config.pipeline, volumeGuard: { mode } } }),
      }
    : deps;
  const out = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline: 'incremental', tables: ['orders'] } },
    deps,
  );
  const work = out.tables[0]!;
  const start = audit.events[0]!;
  history.forEach((n, i) => {
    const createdAt = `2025-01-01T0${i}:00:00.000Z`;
    audit.events.push(
      sealEvent(
        { ...start, eventType: 'success', status: 'SUCCEEDED', recordCountBefore: n, createdAt },
        null,
      ),
    );
  });
  warehouse.targetCount = rows;
  const state = {
    work,
    executionId: 'exec-1',
    export: {
      sourceCount: rows,
      rows,
      rawBytes: 1,
      compressedBytes: 1,
      keys: ['k'],
      upper: '2025-01-01T11:59:00.000Z',
    },
    load: { rowsParsed: rows, rowsLoaded: rows, inserted: rows, updated: 0, files: 1 },
  };
  return () => runStep('verifyCounts', { executionId: 'exec-1', attempt: 0, state }, withMode);
}

describe('verifyCounts volume guard', () => {
  it('passes a window in line with the table recent history without a warning', async () => {
    const out = await (await setup(95, [100, 110, 90]))();
    expect(out).toEqual({ targetCount: 95, countMatch: true, stepMs: expect.any(Number) });
  });

  it('warns, by default, on an empty window and on one far below the median of recent windows', async () => {
    expect((await (await setup(0, [100, 110, 90]))()).volumeWarning).toContain('no rows');
    expect((await (await setup(5, [100, 110, 90]))()).volumeWarning).toContain('below 0.1 of the median');
  });

  it("fails the table with VolumeAnomalyError in 'alert' mode, and says nothing when 'off'", async () => {
    await expect((await setup(5, [100, 110, 90], 'alert'))()).rejects.toBeInstanceOf(VolumeAnomalyError);
    expect(await (await setup(0, [100], 'off'))()).toEqual({
      targetCount: 0,
      countMatch: true,
      stepMs: expect.any(Number),
    });
  });
});
