// What a run reads of the audit log does not grow with it: every read a step makes is bounded by the
// execution, the job, event ids or a newest-n limit, never the whole table.
import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditEventInput, sealEvent } from '../../../lambdas/domain/audit';
import { selectEvents } from '../../../lambdas/domain/audit-filter';
import type { AuditFilter } from '../../../lambdas/ports';
import type { TableState } from '../../../lambdas/steps/contract';
import { fakeDeps, runStep } from '../../support/fakes';

/** An event's content without its identity and seal, to seal again as a new event. */
function content(e: AuditEvent): AuditEventInput {
  const { eventId: _id, createdAt: _at, prevHash: _prev, rowHash: _hash, ...rest } = e;
  return rest;
}

const bounded = (f: AuditFilter) =>
  f.executionId !== undefined || f.jobId !== undefined || f.eventIds !== undefined || f.newest !== undefined;

describe('the audit reads of a run', () => {
  it('are each bounded by execution, job, ids or a newest-n limit, through plan, verify and audit', async () => {
    const { deps, audit, warehouse } = fakeDeps(new Date('2025-01-01T12:00:00.000Z'), {
      volumeGuard: { mode: 'warn', history: 5, minRatio: 0.1 },
    });
    const historical = await runStep(
      'plan',
      { executionId: 'exec-0', attempt: 0, state: { pipeline: 'historical', tables: ['orders'] } },
      deps,
    );
    // A long history of verified windows for the table.
    for (let i = 0; i < 50; i++) {
      audit.events.push(
        sealEvent(
          {
            ...content(audit.events[0]!),
            eventType: 'success',
            status: 'SUCCEEDED',
            pipelineName: 'incremental',
            windowEnd: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
            recordCountBefore: 100 + i,
          },
          null,
          new Date(Date.UTC(2025, 0, 1, 0, i, 30)),
        ),
      );
    }
    audit.reads.length = 0;
    const plan = await runStep(
      'plan',
      {
        executionId: 'exec-1',
        attempt: 1,
        state: { pipeline: 'incremental', tables: [historical.tables[0]!.table] },
      },
      deps,
    );
    expect(plan.tables[0]?.window.from).toBe('2025-01-01T00:44:00.000Z');
    const state: TableState = {
      work: plan.tables[0]!,
      executionId: 'exec-1',
      count: { sourceCount: 10 },
      export: { sourceCount: 10, rows: 10, rawBytes: 500, compressedBytes: 120, keys: ['a'], upper: null },
      load: { rowsParsed: 10, rowsLoaded: 10, inserted: 10, updated: 0, files: 1 },
    };
    warehouse.targetCount = 10;
    const verify = await runStep('verifyCounts', { executionId: 'exec-1', attempt: 0, state }, deps).catch(
      (e: Error) => e,
    );
    expect(verify).not.toBeInstanceOf(Error);
    // The volume guard compared against the newest five windows (100 + 45..49, median 147).
    expect(verify).toMatchObject({
      volumeWarning: expect.stringContaining('median of the last 5 windows (147)'),
    });
    await runStep(
      'writeAudit',
      {
        mode: 'success',
        executionId: 'exec-1',
        attempt: 1,
        state: { ...state, verify: { targetCount: 10, countMatch: true } },
      },
      deps,
    );
    expect(audit.reads.length).toBeGreaterThan(2);
    for (const read of audit.reads) expect(read, JSON.stringify(read)).toSatisfy(bounded);
  });
});

describe('selectEvents, the meaning of an audit filter', () => {
  it('keeps the newest n of each source table with perTable, oldest first', async () => {
    const { deps, audit } = fakeDeps();
    await runStep('plan', { executionId: 'e', attempt: 0, state: { pipeline: 'historical' } }, deps);
    const [orders, customers] = audit.events;
    const at = (base: typeof orders, minute: number) =>
      sealEvent({ ...content(base!), eventType: 'success' }, null, new Date(Date.UTC(2025, 0, 2, 0, minute)));
    const events = [at(orders, 1), at(customers, 2), at(orders, 3), at(orders, 4), at(customers, 5)];
    const picked = selectEvents(events, { eventTypes: ['success'], newest: 2, perTable: true });
    expect(picked.map((e) => [e.sourceTable, e.createdAt.slice(11, 16)])).toEqual([
      ['public.customers', '00:02'],
      ['public.orders', '00:03'],
      ['public.orders', '00:04'],
      ['public.customers', '00:05'],
    ]);
    expect(selectEvents(events, { newest: 1 }).map((e) => e.createdAt.slice(11, 16))).toEqual(['00:05']);
  });
});
