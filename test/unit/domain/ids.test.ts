import { describe, expect, it } from 'vitest';
import { isJobId, newJobId } from '../../../lambdas/domain/ids';

describe('job ids', () => {
  it('are unique and sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newJobId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    expect(newJobId(1_700_000_000_001) > ids.at(-1)!).toBe(true);
  });

  it('are recognised as ULIDs', () => {
    expect(isJobId(newJobId())).toBe(true);
    expect(isJobId('not-a-job')).toBe(false);
  });
});
