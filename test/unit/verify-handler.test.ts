// The daily verification's Lambda handler against the in-memory audit table and stage: an intact log
// publishes nothing; a broken one publishes one alert naming the event to the configured topic, and the
// invocation fails so that the function's error alarm fires too.
import type { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { ENV } from '../../lambdas/runtime/env';
import { createVerifyHandler } from '../../lambdas/runtime/verify-handler';
import { config, fakeFactories, tickingDeps, writeJobs } from '../support/fakes';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:tally-alerts';

async function deployed() {
  const fakes = tickingDeps();
  await writeJobs(fakes.deps, 1, 2);
  const published: PublishCommand['input'][] = [];
  const handler = createVerifyHandler(
    fakeFactories(fakes),
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
