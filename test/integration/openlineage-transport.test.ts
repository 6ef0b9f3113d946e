// The HTTP transport against an endpoint on loopback: the Bearer key, from the configuration or from its
// Secrets Manager secret, and failures that name the endpoint but never the key.
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineageTransportSchema } from '../../lambdas/config';
import { createLineage } from '../../lambdas/lineage/lineage';
import { type LineageReceiver, lineageReceiver, refusedUrl } from '../support/lineage-receiver';

let receiver: LineageReceiver;
beforeAll(async () => {
  receiver = await lineageReceiver();
});
afterAll(async () => {
  await receiver.close();
});

function lineageTo(transport: Record<string, unknown>, secrets?: (id: string) => string) {
  const client = {
    send: async (command: unknown) => {
      const id = (command as GetSecretValueCommand).input.SecretId as string;
      if (!secrets) throw new Error('no secrets here');
      return { SecretString: secrets(id) };
    },
  };
  const settings = {
    namespace: 'tally',
    producer: 'urn:tally',
    pendingLimit: 10,
    origin: 'test',
    transport: lineageTransportSchema.parse({ type: 'http', ...transport }),
  };
  const lineage = createLineage(settings, () => client as never);
  if (!lineage) throw new Error('no lineage');
  return lineage.transport;
}

describe('the OpenLineage HTTP transport', () => {
  it("sends the key of the secret as a Bearer token, the secret's JSON apiKey or its plain value", async () => {
    receiver.received.length = 0;
    const reads: string[] = [];
    const secrets = (id: string) => {
      reads.push(id);
      return id === 'json' ? JSON.stringify({ apiKey: 'from-json' }) : 'plain-key';
    };
    const json = lineageTo({ url: receiver.url, apiKeySecret: 'json' }, secrets);
    await json.send({ n: 1 });
    await json.send({ n: 2 });
    await lineageTo(
      { url: `${receiver.url}/base/`, endpoint: '/v1/events', apiKeySecret: 'plain' },
      secrets,
    ).send({ n: 3 });
    expect(receiver.received.map((r) => [r.path, r.headers.authorization, r.body.n])).toEqual([
      ['/api/v1/lineage', 'Bearer from-json', 1],
      ['/api/v1/lineage', 'Bearer from-json', 2],
      ['/base/v1/events', 'Bearer plain-key', 3],
    ]);
    // Read once, when the first event went out.
    expect(reads).toEqual(['json', 'plain']);
  });

  it('fails by the endpoint, never by the key, when it refuses or hangs, or the secret cannot be read', async () => {
    const key = 'k-very-secret-1';
    const refused = lineageTo({ url: await refusedUrl(), apiKey: key });
    await expect(refused.send({})).rejects.toThrow(
      /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage did not take the event: .*ECONNREFUSED/,
    );
    const hanging = await lineageReceiver({ hang: true });
    try {
      const slow = lineageTo({ url: hanging.url, apiKey: key, timeoutMs: 200 });
      await expect(slow.send({})).rejects.toThrow(/did not take the event: no answer within 200 ms/);
    } finally {
      await hanging.close();
    }
    const withCredentials = lineageTo({
      url: receiver.url.replace('http://', `http://user:${key}@`),
      apiKey: key,
    });
    const secretless = lineageTo({ url: receiver.url, apiKeySecret: 'missing' });
    await expect(secretless.send({})).rejects.toThrow(/the API key could not be read: no secrets here/);
    for (const transport of [refused, withCredentials]) expect(transport.target).not.toContain(key);
  });
});
