// The first incremental run of a table that never had a verified window, run through the synthesized
// definition against the embedded stack: refused by name with one alert and nothing loaded, unless the
// configuration says to take the whole table as its first window.
import { describe, expect, it } from 'vitest';
import type { TallyConfig } from '../../lambdas/config';
import { verifyChain } from '../../lambdas/domain/audit';
import { lastVerifiedWindows } from '../../lambdas/domain/history';
import { qualifiedName } from '../../lambdas/domain/table';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { DEMO_TABLES } from '../../local/demo-data';
import { runPipeline } from '../../local/runner';
import { auditLog } from '../support/audit';
import { demoDatabase } from '../support/demo-database';

const demo = demoDatabase(`firstinc_${process.pid}`, { rows: 40, seed: 9 });
const TABLE = 'public.customers';

const incremental = (cfg: TallyConfig) =>
  runPipeline({
    config: cfg,
    input: { pipeline: 'incremental', tables: [TABLE] },
    retryIntervalMs: 10,
    printAlert: () => {},
  });

/** Rows in the target; Plan creates it empty before any table runs. */
async function targetCount(): Promise<number> {
  const { warehouse, close } = LOCAL_ADAPTERS.warehouse(demo.config);
  const source = LOCAL_ADAPTERS.source(demo.config);
  try {
    const spec = DEMO_TABLES.find((t) => qualifiedName(t) === TABLE)!;
    return await warehouse.count(await source.resolve(spec), { kind: 'all' });
  } finally {
    await Promise.allSettled([close(), source.close()]);
  }
}

describe('the first incremental run of a table with no verified window', () => {
  it('is refused with a NoWatermarkError that says to run the historical pipeline, one alert and nothing loaded', async () => {
    const verdict = await incremental(demo.config);
    expect(verdict.status).toBe('failed');
    expect(verdict.tables).toEqual([
      {
        table: TABLE,
        status: 'failed',
        failure: { stage: 'CountSource', error: 'NoWatermarkError', message: expect.stringContaining(TABLE) },
      },
    ]);
    // The alert is written for a person: the table, its stage and error, the job; not the state as JSON.
    expect(verdict.alerts).toHaveLength(1);
    const [alert] = verdict.alerts;
    expect(alert?.subject).toBe('Tally: 1 of 1 table(s) failed in the incremental run');
    expect(alert?.message).toContain(
      `- ${TABLE}: failed at CountSource with NoWatermarkError: ${TABLE}: no verified window yet`,
    );
    expect(alert?.message).toContain(`Execution: ${verdict.executionId}`);
    expect(alert?.message).not.toContain('"work"');
    const log = (await auditLog(demo.config)).filter((e) => e.executionId === verdict.executionId);
    expect(log.map((e) => e.eventType)).toEqual(['start', 'failure', 'alert']);
    expect(log[1]).toMatchObject({ errorType: 'NoWatermarkError', retryCount: 0 });
    expect(log[1]?.errorMessage).toContain('run the historical pipeline for it first');
    expect(lastVerifiedWindows(log, [TABLE]).get(TABLE) ?? null).toBeNull();
    expect(await targetCount()).toBe(0);
  }, 120_000);

  it("takes the whole table as its first window with pipeline.firstIncremental 'whole-table'", async () => {
    const verdict = await incremental({
      ...demo.config,
      pipeline: { ...demo.config.pipeline, firstIncremental: 'whole-table' },
    });
    expect(verdict.status).toBe('succeeded');
    const { warehouse, close } = LOCAL_ADAPTERS.warehouse(demo.config);
    const source = LOCAL_ADAPTERS.source(demo.config);
    try {
      const spec = DEMO_TABLES.find((t) => qualifiedName(t) === TABLE)!;
      const resolved = await source.resolve(spec);
      const sourceCount = await source.count(resolved, { kind: 'all' });
      expect(sourceCount).toBeGreaterThan(0);
      expect(await warehouse.count(resolved, { kind: 'all' })).toBe(sourceCount);
      const log = await auditLog(demo.config);
      expect(verifyChain(log)).toBeNull();
      expect(lastVerifiedWindows(log, [TABLE]).get(TABLE)).not.toBeNull();
    } finally {
      await Promise.allSettled([close(), source.close()]);
    }
  }, 120_000);
});
