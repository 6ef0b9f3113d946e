import { describe, expect, it } from 'vitest';
import { LEASE_TTL_MS } from '../../../lambdas/leases/table-lease';
import { leaseTtlMs } from '../../../lambdas/steps/frame';
import { fakeDeps, runStep } from '../../support/fakes';

const now = new Date('2025-01-01T12:00:00.000Z');

describe("a table's lease", () => {
  it('lasts until the execution times out, when the step is told when it started and its timeout', () => {
    const started = new Date(now.getTime() - 30 * 60_000).toISOString();
    expect(leaseTtlMs({ executionStartedAt: started, executionTimeoutSeconds: 7200 }, now)).toBe(90 * 60_000);
  });

  it('lasts a second at least, for a step still running as its execution ends', () => {
    const started = new Date(now.getTime() - 3 * 3600_000).toISOString();
    expect(leaseTtlMs({ executionStartedAt: started, executionTimeoutSeconds: 7200 }, now)).toBe(1000);
  });

  it('lasts LEASE_TTL_MS when the start or the timeout is not known', () => {
    expect(leaseTtlMs({}, now)).toBe(LEASE_TTL_MS);
    expect(leaseTtlMs({ executionTimeoutSeconds: 60 }, now)).toBe(LEASE_TTL_MS);
    expect(leaseTtlMs({ executionStartedAt: 'not a time', executionTimeoutSeconds: 60 }, now)).toBe(
      LEASE_TTL_MS,
    );
  });

  it('is taken by the first step of a table until its execution ends, so a timed-out execution frees it', async () => {
    const { deps, leases } = fakeDeps(now);
    const plan = await runStep(
      'plan',
      { executionId: 'exec-1', attempt: 0, state: { pipeline: 'historical' } },
      deps,
    );
    const startedAt = new Date(now.getTime() - 10 * 60_000).toISOString();
    await runStep(
      'countSource',
      {
        executionId: 'exec-1',
        attempt: 0,
        executionStartedAt: startedAt,
        executionTimeoutSeconds: 3600,
        state: { work: plan.tables[0]!, executionId: 'exec-1' },
      },
      deps,
    );
    expect(leases.leases.get('public.orders')).toMatchObject({
      executionId: 'exec-1',
      expiresAt: '2025-01-01T12:50:00.000Z',
    });
  });
});
