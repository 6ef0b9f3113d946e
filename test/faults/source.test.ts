// Faults at the source: PostgreSQL down at count, its connection killed in the middle of an export, and a
// transaction that commits after the window it stamped its rows in has closed.
import { afterEach, describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../lambdas/domain/errors';
import { eventTypes, type FaultStack, faultStack, TABLE, wrapping } from './harness';

let stacks: FaultStack[] = [];

async function fresh(tag: string, rows?: number): Promise<FaultStack> {
  const s = await faultStack(tag, rows);
  stacks.push(s);
  return s;
}

afterEach(async () => {
  await Promise.allSettled(stacks.map((s) => s.drop()));
  stacks = [];
});

describe('PostgreSQL down at count', () => {
  it('retries until the attempts run out, fails with one alert, keeps the watermark, then catches up once it is back', async () => {
    const s = await fresh('pgdown');
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const before = await s.watermark();
    expect(before).not.toBeNull();
    await s.insertRows(5);

    let counts = 0;
    const down = wrapping({
      source: () => ({
        count: async () => {
          counts++;
          throw new SourceUnavailableError('connection refused (injected at count)');
        },
      }),
    });
    const failed = await s.run({ pipeline: 'incremental' }, { wrapPorts: down });
    expect(failed.status).toBe('failed');
    expect(counts).toBeGreaterThan(1);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'retry', 'retry', 'retry', 'failure', 'alert']);
    expect(events.filter((e) => e.eventType === 'retry').map((e) => e.retryCount)).toEqual([1, 2, 3, 4]);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      status: 'FAILED',
      errorType: 'SourceUnavailableError',
      sourceTable: TABLE,
    });
    expect(events.find((e) => e.eventType === 'alert')).toMatchObject({ alertTriggered: true });
    expect(failed.alertLines).toHaveLength(1);
    expect(await s.watermark()).toBe(before);

    const recovered = await s.run({ pipeline: 'incremental' });
    expect(recovered.status).toBe('succeeded');
    expect(recovered.alertLines).toEqual([]);
    expect(eventTypes(await s.auditOf(recovered.executionId))).toEqual(['start', 'success']);
    await s.expectTargetEqualsSource();
  }, 60_000);
});
