// The daily verification's Lambda handler against the in-memory audit table and stage: an intact log
// publishes nothing; a broken one publishes one alert naming the event to the configured topic, and the
// invocation fails so that the function's error alarm fires too.
import type { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../lambdas/audit/writer';
import { type AuditEvent, type AuditEventInput, blankEvent } from '../../lambdas/domain/audit';
import { ENV } from '../../lambdas/runtime/env';
import { createVerifyHandler } from '../../lambdas/runtime/verify-handler';
import { config, fakeDeps } from '../support/fakes';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:tally-alerts';

function event(jobId: string, eventType: AuditEventInput['eventType']): AuditEventInput {
  return blankEvent({
    jobId,
    executionId: `exec-${jobId}`,
    pipelineName: 'incremental',
    eventType,
    status: 'RUNNING',
    sourceSystem: 'postgresql',
    targetSystem: 'snowflake',
    sourceTable: 'public.orders',
    targetTable: 'ORDERS',
    jobStartTime: '2025-01-01T12:00:00.000Z',
  });
}

async function deployed() {
  const fakes = fakeDeps();
  let t = Date.parse('2025-01-01T12:00:00.000Z');
  const deps = { ...fakes.deps, now: () => new Date(t++) };
  for (const job of ['J1', 'J2']) {
    await appendAudit(deps, [event(job, 'start')]);
    await appendAudit(deps, [event(job, 'success')]);
  }
  const published: PublishCommand['input'][] = [];
  const handler = createVerifyHandler(
    {
      source: () => {
        throw new Error('the verification reads no source');
      },
      stage: () => fakes.stage,
      warehouse: () => ({
        warehouse: fakes.warehouse,
        audit: fakes.audit,
        leases: fakes.leases,
        close: async () => {},
      }),
    },
    { [ENV.config]: JSON.stringify(config), [ENV.alertTopicArn]: TOPIC },
    {
      snsClient: {
        send: async (command: { input: PublishCommand['input'] }) => published.push(command.input),
      } as never,
    },
  );
  return { handler, published, audit: fakes.audit };
}

const context = { getRemainingTimeInMillis: () => 900_000 };

describe('the audit verification handler', () => {
  it('publishes nothing when the log is intact', async () => {
    const { handler, published } = await deployed();
    await expect(handler({}, context)).resolves.toMatchObject({ intact: true, checked: 4 });
    expect(published).toEqual([]);
  });

  it('publishes one alert naming the changed event to the topic, and fails the invocation', async () => {
    const { handler, published, audit } = await deployed();
    const victim = audit.events[2] as AuditEvent;
    audit.events[2] = { ...victim, recordCountAfter: 7 };
    await expect(handler({}, context)).rejects.toMatchObject({ name: 'AuditChainBrokenError' });
    expect(published).toHaveLength(1);
    expect(published[0]?.TopicArn).toBe(TOPIC);
    expect(published[0]?.Message).toContain(`changed event ${victim.eventId}`);
    expect(published[0]?.Message).toContain('RECORD_COUNT_AFTER');
  });

  it('refuses to start without the alert topic', () => {
    expect(() => createVerifyHandler({} as never, { [ENV.config]: JSON.stringify(config) })).toThrow(
      /TALLY_ALERT_TOPIC_ARN is not set/,
    );
  });
});
