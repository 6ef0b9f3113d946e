// Two executions started at once for the same table: one loads it, the other waits, is refused with one
// alert, and the target ends equal to the source.
import { afterEach, describe, expect, it } from 'vitest';
import type { Ports } from '../../lambdas/steps/deps';
import { type FaultStack, faultStack, overriding, TABLE } from './harness';

let stacks: FaultStack[] = [];

afterEach(async () => {
  await Promise.allSettled(stacks.map((s) => s.drop()));
  stacks = [];
});

describe('two executions started at once for the same table', () => {
  it('let one load the table while the other is refused with one alert; the watermark is the loader’s', async () => {
    const s = await faultStack('twice');
    stacks.push(s);
    // The second starts once the first holds the table, and the first exports only after the second
    // ended, so the two overlap however the steps happen to be scheduled.
    let held: () => void = () => {};
    const holds = new Promise<void>((resolve) => {
      held = resolve;
    });
    let secondEnded: Promise<unknown> = holds;
    const holding = (ports: Ports): Ports =>
      overriding(ports, {
        warehouse: overriding(ports.warehouse, {
          acquireLease: async (...args: Parameters<Ports['warehouse']['acquireLease']>) => {
            const lease = await ports.warehouse.acquireLease(...args);
            if (lease.executionId === args[1]) held();
            return lease;
          },
        }),
        source: overriding(ports.source, {
          export: async (...args: Parameters<Ports['source']['export']>) => {
            await secondEnded;
            return ports.source.export(...args);
          },
        }),
      });
    const firstRun = s.run({ pipeline: 'historical' }, { wrapPorts: holding });
    await holds;
    const secondRun = s.run({ pipeline: 'historical' });
    secondEnded = secondRun.catch(() => undefined);
    const [first, second] = await Promise.all([firstRun, secondRun]);

    expect(first.status).toBe('succeeded');
    expect(first.alertLines).toEqual([]);
    expect(second.status).toBe('failed');
    expect(second.alerts).toHaveLength(1);
    expect(second.alertLines).toHaveLength(1);
    const ofSecond = await s.auditOf(second.executionId);
    const waits = ofSecond.filter((e) => e.eventType === 'retry' && e.errorType === 'TableBusyError');
    expect(waits.length).toBeGreaterThan(0);
    for (const e of waits) expect(e.errorMessage).toContain(first.executionId);
    expect(ofSecond.filter((e) => e.eventType === 'failure')).toEqual([
      expect.objectContaining({ errorType: 'TableBusyError', sourceTable: TABLE }),
    ]);
    expect(ofSecond.filter((e) => e.eventType === 'alert')).toHaveLength(1);
    expect(ofSecond.some((e) => e.eventType === 'success')).toBe(false);
    const firstSuccess = (await s.auditOf(first.executionId)).find((e) => e.eventType === 'success');
    expect(await s.watermark()).toBe(firstSuccess!.windowEnd);
    await s.expectTargetEqualsSource();

    // The table is free again: the next execution loads it.
    await s.insertRows(4);
    const next = await s.run({ pipeline: 'incremental' });
    expect(next.status).toBe('succeeded');
    await s.expectTargetEqualsSource();
  }, 120_000);
});
