import { describe, expect, it } from 'vitest';
import {
  AUDIT_COLUMNS,
  type AuditEvent,
  type AuditEventInput,
  blankEvent,
  sealEvent,
  verifyChain,
} from '../../../lambdas/domain/audit';

const base: AuditEventInput = {
  ...blankEvent({
    jobId: '01JOB',
    executionId: 'exec-1',
    pipelineName: 'historical',
    eventType: 'start',
    status: 'RUNNING',
    sourceSystem: 'postgresql',
    targetSystem: 'snowflake',
    sourceTable: 'public.orders',
    targetTable: 'ORDERS',
    jobStartTime: '2024-01-01T00:00:00.000Z',
  }),
  recordCountBefore: 10,
};

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let i = 0; i < n; i++)
    out.push(sealEvent({ ...base, recordCountBefore: i }, out.at(-1)?.rowHash ?? null));
  return out;
}

describe('audit events', () => {
  it('have a column for every field of the event', () => {
    const fields = new Set(AUDIT_COLUMNS.map((c) => c.field));
    const sealed = sealEvent(base, null);
    for (const key of Object.keys(sealed)) expect(fields.has(key as keyof AuditEvent)).toBe(true);
    expect(AUDIT_COLUMNS).toHaveLength(Object.keys(sealed).length);
  });

  it('verify when the chain is intact', () => {
    expect(verifyChain(chain(5))).toBeNull();
  });

  it('find a row whose content was changed', () => {
    const events = chain(5);
    events[2] = { ...events[2]!, recordCountBefore: 999 };
    expect(verifyChain(events)).toMatchObject({ index: 2, reason: 'content changed' });
  });

  it('find a removed row', () => {
    const events = chain(5);
    events.splice(3, 1);
    expect(verifyChain(events)).toMatchObject({ index: 3, reason: 'link broken' });
  });

  it('find an inserted row', () => {
    const events = chain(4);
    const forged = sealEvent({ ...base, eventType: 'success' }, events[1]!.rowHash);
    events.splice(2, 0, forged);
    expect(verifyChain(events)).toMatchObject({ index: 3, reason: 'link broken' });
  });
});
