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

  it('checks the checkpoints against the keys of the checkpoint secret, the rotated-away one included', async () => {
    const OLD = 'o'.repeat(40);
    const fakes = tickingDeps();
    const signing = { ...fakes.deps.config, audit: { ...fakes.deps.config.audit, checkpointKey: OLD } };
    await writeJobs({ ...fakes.deps, config: signing }, 1, 2);
    const handlerWith = (secret: Record<string, unknown>) => {
      const asked: string[] = [];
      const handler = createVerifyHandler(
        fakeFactories(fakes),
        {
          [ENV.config]: JSON.stringify(config),
          [ENV.alertTopicArn]: TOPIC,
          [ENV.checkpointSecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/cp-AbCdEf',
        },
        {
          secretsClient: {
            send: async (command: { input: { SecretId: string } }) => {
              asked.push(command.input.SecretId);
              return { SecretString: JSON.stringify(secret) };
            },
          } as never,
          snsClient: { send: async () => ({}) } as never,
        },
      );
      return { handler, asked };
    };
    const rotated = handlerWith({ key: 'n'.repeat(40), previousKeys: [OLD] });
    await expect(rotated.handler({}, context)).resolves.toMatchObject({ intact: true, checked: 4 });
    await rotated.handler({}, context);
    expect(rotated.asked).toHaveLength(1);
    // Without the key that signed them, the checkpoints were written without the key, as far as it can tell.
    const forgotten = handlerWith({ key: 'n'.repeat(40) });
    await expect(forgotten.handler({}, context)).rejects.toMatchObject({ name: 'AuditChainBrokenError' });
  });

  it('refuses to start without the alert topic', () => {
    expect(() => createVerifyHandler({} as never, { [ENV.config]: JSON.stringify(config) })).toThrow(
      /TALLY_ALERT_TOPIC_ARN is not set/,
    );
  });
});
