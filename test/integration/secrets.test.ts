// The step handler reading its credentials from a loopback server that answers as Secrets Manager's
// GetSecretValue does (JSON 1.1 protocol; errors as `__type`): a failure to read a secret reaches the
// caller as a named error Step Functions routes (throttling and an unreachable endpoint retried; a denied,
// missing or undecryptable secret terminal, naming the secret and never its value), and a sign-in refused
// with cached credentials reads the secrets again once, so a rotated password is picked up at once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceAuthError, WarehouseAuthError } from '../../lambdas/domain/errors';
import { ENV } from '../../lambdas/runtime/env';
import { createHandler } from '../../lambdas/runtime/handler';
import { createSecretsClient } from '../../lambdas/runtime/secrets';
import { freePort } from '../../local/free-port';
import { FakeSource, FakeStage, fakeWarehousePorts } from '../support/fakes';

const PG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/postgres-AbCdEf';
const SF_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/snowflake-GhIjKl';

/** What the server answers for a secret: its text, or an error type. */
type Answer = { readonly text: string } | { readonly error: string; readonly status?: number };
const answers = new Map<string, Answer>();
const requests: string[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
      requests.push(SecretId);
      const answer = answers.get(SecretId) ?? { error: 'ResourceNotFoundException' };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || 'error' in answer) {
        const type = 'error' in answer ? answer.error : 'UnknownOperationException';
        res.writeHead('error' in answer ? (answer.status ?? 400) : 400, { 'x-amzn-errortype': type });
        res.end(JSON.stringify({ __type: type, Message: `${type} for the secret` }));
        return;
      }
      res.writeHead(200);
      res.end(JSON.stringify({ ARN: SecretId, Name: SecretId, SecretString: answer.text, VersionId: 'v' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers.clear();
  requests.length = 0;
  // Powertools writes its log lines to stdout; keep the test output to the results.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.spyOn(console, 'info').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

const env = {
  [ENV.step]: 'plan',
  [ENV.config]: JSON.stringify({
    tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
    postgres: { host: '127.0.0.1', database: 'shop' },
    s3: { bucket: 'bucket' },
    snowflake: { account: 'acct', username: 'TALLY', database: 'DB' },
  }),
  [ENV.postgresSecretArn]: PG_ARN,
  [ENV.snowflakeSecretArn]: SF_ARN,
  POWERTOOLS_DEV: 'false',
};
const context = {
  functionName: 'tally-plan',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tally-plan',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
const planEvent = () => ({
  executionId: 'exec-1',
  stateName: 'Plan',
  attempt: 0,
  state: { pipeline: 'historical' },
});

function client(at: string = endpoint) {
  return createSecretsClient({
    endpoint: at,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' },
    // One retry keeps a throttled read's backoff short here; the production client keeps the SDK's three.
    maxAttempts: 2,
  });
}

/**
 * Ports whose sign-in (Snowflake's, or PostgreSQL's with `system: 'postgres'`) accepts only the password
 * the account has now (`accepted`): a port opened with another one is refused, as a database refuses a
 * rotated-away password.
 */
function portsSigningInWith(accepted: () => string, system: 'snowflake' | 'postgres' = 'snowflake') {
  return {
    source: (config: { postgres: { password?: string } }) => {
      const source = new FakeSource();
      const resolve = source.resolve.bind(source);
      source.resolve = async (spec) => {
        if (system === 'postgres' && config.postgres.password !== accepted()) {
          throw new SourceAuthError('PostgreSQL refused the sign-in (28P01): password authentication failed');
        }
        return resolve(spec);
      };
      return source;
    },
    stage: () => new FakeStage(),
    warehouse: (config: { snowflake: { password?: string } }) => {
      const ports = fakeWarehousePorts();
      const bootstrap = ports.warehouse.bootstrap.bind(ports.warehouse);
      ports.warehouse.bootstrap = async (tables) => {
        if (system === 'snowflake' && config.snowflake.password !== accepted()) {
          throw new WarehouseAuthError(
            'Snowflake refused the sign-in (390100): incorrect username or password',
          );
        }
        return bootstrap(tables);
      };
      return ports;
    },
  };
}

describe('a secret that cannot be read', () => {
  const handlerWith = (at?: string) =>
    createHandler(
      portsSigningInWith(() => 'unused'),
      env,
      { secretsClient: client(at) },
    );

  it('is a retryable SecretUnavailableError when Secrets Manager throttles', async () => {
    answers.set(PG_ARN, { error: 'ThrottlingException' });
    answers.set(SF_ARN, { text: JSON.stringify({ password: 'sf' }) });
    await expect(handlerWith()(planEvent(), context)).rejects.toMatchObject({
      name: 'SecretUnavailableError',
      message: expect.stringContaining(`secret ${PG_ARN} (ThrottlingException)`),
    });
    // The SDK retried the throttled read before giving up.
    expect(requests.filter((id) => id === PG_ARN)).toHaveLength(2);
  });

  it('is a retryable SecretUnavailableError when nothing listens at the endpoint', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(handlerWith(closed)(planEvent(), context)).rejects.toMatchObject({
      name: 'SecretUnavailableError',
      message: expect.stringMatching(/ECONNREFUSED.*reach Secrets Manager/),
    });
  });

  it('is a terminal SecretAccessError naming the secret when access is denied or it does not exist', async () => {
    answers.set(PG_ARN, { text: JSON.stringify({ password: 'pg-value-never-shown' }) });
    answers.set(SF_ARN, { error: 'AccessDeniedException' });
    const denied = await handlerWith()(planEvent(), context).catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'SecretAccessError' });
    expect((denied as Error).message).toContain(`secret ${SF_ARN} (AccessDeniedException)`);
    expect((denied as Error).message).not.toContain('pg-value-never-shown');

    answers.delete(SF_ARN);
    await expect(handlerWith()(planEvent(), context)).rejects.toMatchObject({
      name: 'SecretAccessError',
      message: expect.stringContaining(`secret ${SF_ARN} (ResourceNotFoundException)`),
    });
    answers.set(SF_ARN, { error: 'DecryptionFailure' });
    await expect(handlerWith()(planEvent(), context)).rejects.toMatchObject({
      name: 'SecretAccessError',
      message: expect.stringContaining('kms:Decrypt'),
    });
  });

  it('is an InvalidConfigError that does not quote the value when it is not JSON', async () => {
    answers.set(PG_ARN, { text: 'password=not-json-never-shown' });
    answers.set(SF_ARN, { text: JSON.stringify({ password: 'sf' }) });
    const err = await handlerWith()(planEvent(), context).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidConfigError' });
    expect((err as Error).message).toContain(`secret ${PG_ARN} is not valid JSON`);
    expect((err as Error).message).not.toContain('not-json-never-shown');
  });
});

describe('a rotated secret', () => {
  it('is read again when the cached password is refused, and the step runs with the new one', async () => {
    let accepted = 'first-password';
    answers.set(PG_ARN, { text: JSON.stringify({ password: 'pg' }) });
    answers.set(SF_ARN, { text: JSON.stringify({ password: accepted }) });
    const handler = createHandler(
      portsSigningInWith(() => accepted),
      env,
      { secretsClient: client() },
    );
    await handler(planEvent(), context);
    expect(requests, JSON.stringify(requests)).toHaveLength(2);

    // Rotation: the account takes only the new password, and the secret holds it. The warm container
    // still has the old one cached, and its connection is gone (as after an idle timeout).
    accepted = 'second-password';
    answers.set(SF_ARN, { text: JSON.stringify({ password: accepted }) });
    const planned = (await handler(planEvent(), context)) as { tables: unknown[] };
    expect(planned.tables).toHaveLength(1);
    // One more read of each secret, after the refusal; none before it (the cache was still fresh).
    expect(requests).toHaveLength(4);
  });

  it('is read again when PostgreSQL refuses the cached password, and the step runs with the new one', async () => {
    let accepted = 'pg-first';
    answers.set(PG_ARN, { text: JSON.stringify({ password: accepted }) });
    answers.set(SF_ARN, { text: JSON.stringify({ password: 'sf' }) });
    const handler = createHandler(
      portsSigningInWith(() => accepted, 'postgres'),
      env,
      {
        secretsClient: client(),
      },
    );
    await handler(planEvent(), context);
    accepted = 'pg-second';
    answers.set(PG_ARN, { text: JSON.stringify({ password: accepted }) });
    const planned = (await handler(planEvent(), context)) as { tables: unknown[] };
    expect(planned.tables).toHaveLength(1);
    expect(requests.filter((id) => id === PG_ARN)).toHaveLength(2);
  });

  it('leaves the refusal standing, after one more read, when the secret did not change', async () => {
    answers.set(PG_ARN, { text: JSON.stringify({ password: 'pg' }) });
    answers.set(SF_ARN, { text: JSON.stringify({ password: 'stale' }) });
    const handler = createHandler(
      portsSigningInWith(() => 'the-account-has-another'),
      env,
      {
        secretsClient: client(),
      },
    );
    await expect(handler(planEvent(), context)).rejects.toMatchObject({ name: 'WarehouseAuthError' });
    expect(requests).toHaveLength(4);
  });
});
