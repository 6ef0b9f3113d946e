// Two executions started at once for the same table, run through the synthesized definition against the
// embedded stack: one loads it, the other is told who holds it, waits, and skips the table without an
// alert; the audit log says so and the target ends equal to the source.
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../lambdas/domain/audit';
import { qualifiedName } from '../../lambdas/domain/table';
import type { Ports } from '../../lambdas/ports';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { DEMO_TABLES } from '../../local/demo-data';
import { runPipeline } from '../../local/runner';
import { auditLog } from '../support/audit';
import { demoDatabase } from '../support/demo-database';
import { wrapping } from '../support/port-overrides';

const demo = demoDatabase(`lockpipe_${process.pid}`, { rows: 60, seed: 5 });
const TABLE = 'public.customers';

describe('two executions for the same table', () => {
  it('let one load the table while the other skips it, naming the holder in its audit events and alerting no one', async () => {
    // The second execution starts once the first holds the table, and the first's export waits until the
    // second has ended, so the two overlap however the steps happen to be scheduled.
    let held: () => void = () => {};
    const holds = new Promise<void>((resolve) => {
      held = resolve;
    });
    let secondEnded: Promise<unknown> = holds;
    const holding = wrapping({
      leases: (leases) => ({
        acquire: async (...args: Parameters<Ports['leases']['acquire']>) => {
          const lease = await leases.acquire(...args);
          if (lease.executionId === args[1]) held();
          return lease;
        },
      }),
      source: (source) => ({
        export: async (...args: Parameters<Ports['source']['export']>) => {
          await secondEnded;
          return source.export(...args);
        },
      }),
    });
    const run = (wrapPorts?: (ports: Ports) => Ports) =>
      runPipeline({
        config: demo.config,
        input: { pipeline: 'historical', tables: [TABLE] },
        retryIntervalMs: 10,
        printAlert: () => {},
        ...(wrapPorts ? { wrapPorts } : {}),
      });
    const firstRun = run(holding);
    await holds;
    const secondRun = run();
    secondEnded = secondRun.catch(() => undefined);
    const [first, second] = await Promise.all([firstRun, secondRun]);

    expect(first.status).toBe('succeeded');
    expect(second.status).toBe('succeeded');
    expect(second.tables).toEqual([{ table: TABLE, status: 'skipped' }]);
    expect(second.alerts).toHaveLength(0);

    const { warehouse, leases, close } = LOCAL_ADAPTERS.warehouse(demo.config);
    const source = LOCAL_ADAPTERS.source(demo.config);
    try {
      const log = await auditLog(demo.config);
      expect(verifyChain(log)).toBeNull();
      const ofFirst = log.filter((e) => e.executionId === first.executionId);
      expect(ofFirst.map((e) => e.eventType)).toEqual(['start', 'success']);
      const ofSecond = log.filter((e) => e.executionId === second.executionId);
      const busy = ofSecond.filter((e) => e.errorType === 'TableBusyError');
      expect(busy.length).toBeGreaterThan(1);
      for (const e of busy.filter((e) => e.eventType === 'retry')) {
        expect(e.retryStatus).toBe(`waiting for ${first.executionId}`);
        expect(e.errorMessage).toContain(`being loaded by execution ${first.executionId}`);
      }
      const skipped = ofSecond.find((e) => e.eventType === 'skipped');
      expect(skipped).toMatchObject({ errorType: 'TableBusyError', sourceTable: TABLE, status: 'SKIPPED' });
      expect(skipped?.errorMessage).toContain(first.executionId);
      expect(ofSecond.some((e) => e.eventType === 'failure' || e.eventType === 'alert')).toBe(false);

      // The table was loaded once, by the first execution, and is free again for the next.
      const spec = DEMO_TABLES.find((t) => qualifiedName(t) === TABLE)!;
      const resolved = await source.resolve(spec);
      const sourceCount = await source.count(resolved, { kind: 'all' });
      expect(sourceCount).toBeGreaterThan(0);
      expect(await warehouse.count(resolved, { kind: 'all' })).toBe(sourceCount);
      const next = await leases.acquire(TABLE, 'the-next-execution', new Date(), 60_000);
      expect(next.executionId).toBe('the-next-execution');
      await leases.release(TABLE, 'the-next-execution');
    } finally {
      await Promise.allSettled([close(), source.close()]);
    }
  }, 120_000);
});
