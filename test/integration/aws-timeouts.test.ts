// Tally's AWS SDK clients give up on a connection that never completes (a subnet with no route) within
// seconds, after the SDK's own retries, with a named error instead of waiting for the Lambda's timeout.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAwsTimeout } from '../../lambdas/adapters/aws-http';
import { S3Stage } from '../../lambdas/adapters/s3';
import { s3Schema } from '../../lambdas/config';
import { StageUnavailableError } from '../../lambdas/domain/errors';
import { createSecretsClient } from '../../lambdas/runtime/secrets';
import { type UnansweredPort, unansweredPort } from '../support/unanswered-port';

let blackhole: UnansweredPort;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

beforeAll(async () => {
  blackhole = await unansweredPort();
});
afterAll(() => blackhole?.close());

async function timed<T>(work: () => Promise<T>): Promise<{ error: unknown; seconds: number }> {
  const started = Date.now();
  const error = await work().then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, seconds: (Date.now() - started) / 1000 };
}

describe('AWS SDK clients on a network with no route', () => {
  it('fail an S3 request as StageUnavailableError within seconds, naming the timeout and the gateway endpoint', async () => {
    const stage = new S3Stage(
      s3Schema.parse({
        bucket: 'tally',
        region: 'eu-west-1',
        endpoint: `http://127.0.0.1:${blackhole.port}`,
        forcePathStyle: true,
        ...credentials,
      }),
    );
    const { error, seconds } = await timed(() => stage.putJson('tally/probe.json', { probe: true }));
    expect(error).toBeInstanceOf(StageUnavailableError);
    expect((error as Error).message).toMatch(/TimeoutError|ETIMEDOUT/);
    expect((error as Error).message).toContain('S3 gateway endpoint');
    // Three attempts of at most 5 s each to connect, plus the SDK's backoff.
    expect(seconds).toBeLessThan(25);
    expect(seconds).toBeGreaterThan(4);
  }, 60_000);

  it("fail a Secrets Manager call of the functions' client within seconds", async () => {
    const client = createSecretsClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${blackhole.port}`,
      credentials,
    });
    try {
      const { error, seconds } = await timed(() =>
        client.send(new GetSecretValueCommand({ SecretId: 'tally' })),
      );
      expect(isAwsTimeout(error)).toBe(true);
      expect(seconds).toBeLessThan(25);
    } finally {
      client.destroy();
    }
  }, 60_000);
});
