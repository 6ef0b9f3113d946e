import { describe, expect, it } from 'vitest';
import { TableBusyError } from '../../../lambdas/domain/errors';
import { appendAudit } from '../../../lambdas/steps/audit-writer';
import { tableEventBase } from '../../../lambdas/steps/common';
import { holdTable } from '../../../lambdas/steps/lock';
import { plan } from '../../../lambdas/steps/plan';
import { fakeDeps } from '../../support/fakes';

async function planned() {
  const env = fakeDeps();
  const out = await plan({ executionId: 'exec-1', attempt: 0, state: { pipeline: 'incremental' } }, env.deps);
  const work = out.tables[0];
  if (!work) throw new Error('plan returned no table');
  return { ...env, work };
}

describe('holdTable', () => {
  it('refuses a table another execution holds, and records who holds it', async () => {
    const { deps, warehouse, work } = await planned();
    await warehouse.acquireLease(work.table, 'exec-2', deps.now(), 60_000);
    await expect(holdTable(deps, 'exec-1', work, 0)).rejects.toBeInstanceOf(TableBusyError);
    const busy = warehouse.audit.filter((e) => e.errorType === 'TableBusyError');
    expect(busy.map((e) => [e.executionId, e.retryStatus])).toEqual([['exec-1', 'waiting for exec-2']]);
    expect(warehouse.leases.get(work.table)?.executionId).toBe('exec-2');
  });

  it.each(['success', 'failure', 'alert'] as const)(
    'takes over the lease of an execution whose %s for the table is in the log but never released it',
    async (final) => {
      const { deps, warehouse, work } = await planned();
      await warehouse.acquireLease(work.table, 'exec-2', deps.now(), 60_000);
      await appendAudit(deps, [tableEventBase(deps, 'exec-2', work, final)]);
      await holdTable(deps, 'exec-1', work, 0);
      expect(warehouse.leases.get(work.table)?.executionId).toBe('exec-1');
      expect(warehouse.audit.filter((e) => e.errorType === 'TableBusyError')).toEqual([]);
    },
  );

  it("does not take over a lease on another table's final event", async () => {
    const { deps, warehouse, work } = await planned();
    await warehouse.acquireLease(work.table, 'exec-2', deps.now(), 60_000);
    await appendAudit(deps, [
      { ...tableEventBase(deps, 'exec-2', work, 'failure'), sourceTable: 'public.other' },
    ]);
    await expect(holdTable(deps, 'exec-1', work, 0)).rejects.toBeInstanceOf(TableBusyError);
  });
});
