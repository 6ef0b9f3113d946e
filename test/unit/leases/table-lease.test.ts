import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../../lambdas/audit/writer';
import type { StepDeps } from '../../../lambdas/deps';
import { TableBusyError } from '../../../lambdas/domain/errors';
import { holdTable } from '../../../lambdas/leases/table-lease';
import { tableEventBase } from '../../../lambdas/steps/common';
import type { TableWork } from '../../../lambdas/steps/contract';
import { fakeDeps, runStep } from '../../support/fakes';

async function planned() {
  const env = fakeDeps();
  const out = await runStep(
    'plan',
    { executionId: 'exec-1', attempt: 0, state: { pipeline: 'incremental' } },
    env.deps,
  );
  const work = out.tables[0];
  if (!work) throw new Error('plan returned no table');
  return { ...env, work };
}

/** exec-1's CountSource asking for the table, as its frame would. */
function hold(deps: StepDeps, work: TableWork) {
  const event = tableEventBase(deps, 'exec-1', work, 'retry');
  return holdTable(deps, {
    table: work.table,
    executionId: 'exec-1',
    state: 'CountSource',
    attempt: 0,
    event,
  });
}

describe('holdTable', () => {
  it('refuses a table another execution holds, and records who holds it', async () => {
    const { deps, audit, leases, work } = await planned();
    await leases.acquire(work.table, 'exec-2', deps.now(), 60_000);
    await expect(hold(deps, work)).rejects.toBeInstanceOf(TableBusyError);
    const busy = audit.events.filter((e) => e.errorType === 'TableBusyError');
    expect(busy.map((e) => [e.executionId, e.retryStatus])).toEqual([['exec-1', 'waiting for exec-2']]);
    expect(leases.leases.get(work.table)?.executionId).toBe('exec-2');
  });

  it.each(['success', 'failure', 'alert'] as const)(
    'takes over the lease of an execution whose %s for the table is in the log but never released it',
    async (final) => {
      const { deps, audit, leases, work } = await planned();
      await leases.acquire(work.table, 'exec-2', deps.now(), 60_000);
      await appendAudit(deps, [tableEventBase(deps, 'exec-2', work, final)]);
      await hold(deps, work);
      expect(leases.leases.get(work.table)?.executionId).toBe('exec-1');
      expect(audit.events.filter((e) => e.errorType === 'TableBusyError')).toEqual([]);
    },
  );

  it("does not take over a lease on another table's final event", async () => {
    const { deps, leases, work } = await planned();
    await leases.acquire(work.table, 'exec-2', deps.now(), 60_000);
    await appendAudit(deps, [
      { ...tableEventBase(deps, 'exec-2', work, 'failure'), sourceTable: 'public.other' },
    ]);
    await expect(hold(deps, work)).rejects.toBeInstanceOf(TableBusyError);
  });
});
