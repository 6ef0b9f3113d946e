// Faults at the warehouse injected at its port, for the paths the network scenarios
// (network-warehouse.test.ts) do not reach: a historical load refused once, and one audit insert refused
// while the rest of the run goes on.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { WarehouseUnavailableError } from '../../lambdas/domain/errors';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { eventTypes, rigForFile, type Scenario } from '../support/faults/rig';
import { wrapping } from '../support/port-overrides';

const file = rigForFile();

const fresh = (tag: string): Promise<Scenario> => file.scenario(tag, 20);

/** A historical load that succeeded, then `rows` new source rows for the next incremental window. */
async function loadedWithChanges(s: Scenario, rows = 5): Promise<string> {
  const historical = await s.run({ pipeline: 'historical' });
  expect(historical.status).toBe('succeeded');
  const watermark = await s.watermark();
  expect(watermark).not.toBeNull();
  await s.insertRows(rows);
  return watermark!;
}

describe('the Snowflake stand-in down at load', () => {
  it('retries a historical load refused once and loads every row exactly once', async () => {
    const s = await fresh('sfonce');
    let refused = 0;
    const once = wrapping({
      warehouse: (w) => ({
        replaceWith: async (...args: Parameters<typeof w.replaceWith>) => {
          if (refused++ === 0)
            throw new WarehouseUnavailableError('Snowflake could not be reached (injected at load)');
          return w.replaceWith(...args);
        },
      }),
    });
    const historical = await s.run({ pipeline: 'historical' }, { wrapPorts: once });
    expect(historical.status).toBe('succeeded');
    expect(historical.alertLines).toEqual([]);
    const events = await s.auditOf(historical.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[1]).toMatchObject({ status: 'RETRYING', retryCount: 1 });
    expect(events[2]).toMatchObject({ retryCount: 1, countMatch: true, rowsLoaded: 20 });
    await s.expectTargetEqualsSource();
  }, 60_000);
});

describe('the warehouse unreachable while an audit event is written', () => {
  it('keeps the refused success event pending in S3 and delivers it exactly once', async () => {
    const s = await fresh('audit');
    await loadedWithChanges(s);
    const stage = LOCAL_ADAPTERS.stage(s.config);
    const undelivered = async () =>
      (
        (await stage.getJson<{ undelivered: AuditEvent[] }>(`${s.config.s3.prefix}/audit/tail.json`))
          ?.undelivered ?? []
      ).map((e) => e.eventId);
    let refusedId: string | null = null;
    let pendingWhenRefused: string[] = [];
    const refusing = wrapping({
      audit: (audit) => ({
        insert: async (...args: Parameters<typeof audit.insert>) => {
          const success = args[0].find((e) => e.eventType === 'success');
          if (refusedId === null && success) {
            refusedId = success.eventId;
            pendingWhenRefused = await undelivered();
            throw new WarehouseUnavailableError('Snowflake could not be reached (injected at audit)');
          }
          return audit.insert(...args);
        },
      }),
    });
    const run = await s.run({ pipeline: 'incremental' }, { wrapPorts: refusing });
    expect(run.status).toBe('succeeded');
    expect(refusedId).not.toBeNull();
    // When the insert was refused the event was already kept in S3, in the chain's tail.
    expect(pendingWhenRefused).toContain(refusedId);
    const log = await s.auditLog();
    const ids = log.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id === refusedId)).toHaveLength(1);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toContain('retry');
    // The retried step delivered the success it had kept instead of writing a second one.
    expect(events.filter((e) => e.eventType === 'success').map((e) => e.eventId)).toEqual([refusedId]);
    expect(await undelivered()).toEqual([]);
    // The next run delivers nothing twice.
    const next = await s.run({ pipeline: 'incremental' });
    expect(next.status).toBe('succeeded');
    const after = (await s.auditLog()).map((e) => e.eventId);
    expect(new Set(after).size).toBe(after.length);
    expect(after.filter((id) => id === refusedId)).toHaveLength(1);
    await s.expectTargetEqualsSource();
  }, 60_000);
});
