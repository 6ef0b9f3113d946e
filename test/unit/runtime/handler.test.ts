import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Checkpoint, hasValidSignature } from '../../../lambdas/domain/checkpoint';
import { InvalidConfigError } from '../../../lambdas/domain/errors';
import { ENV } from '../../../lambdas/runtime/env';
import { createHandler } from '../../../lambdas/runtime/handler';
import { currentStepClock, type StepClock } from '../../../lambdas/step-clock';
import { FakeSource, FakeStage, fakeWarehousePorts } from '../../support/fakes';

const PASSWORD = 'sf-password-never-logged';
const config = {
  [ENV.config]: JSON.stringify({
    tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
    postgres: { url: 'postgres://reader:pg-password-never-logged@127.0.0.1/db' },
    s3: { bucket: 'bucket' },
    snowflake: { account: 'acct', username: 'u', password: PASSWORD, database: 'DB' },
  }),
  POWERTOOLS_DEV: 'false',
};
/** The environment the construct gives the function of `step`. */
const env = (step: string) => ({ ...config, [ENV.step]: step });

function factories() {
  const warehouse = fakeWarehousePorts();
  const source = new FakeSource();
  // One bucket for every function, as in AWS: Plan keeps the tables' columns there for the later steps.
  const stage = new FakeStage();
  let opened = 0;
  return {
    warehouse,
    opened: () => opened,
    factories: {
      source: () => {
        opened++;
        return source;
      },
      stage: () => stage,
      warehouse: () => warehouse,
    },
  };
}

const context = {
  functionName: 'tally-step',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:tally-step',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

function captureLogs(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe('a step handler', () => {
  it('fails at cold start naming the missing setting', () => {
    expect(() => createHandler(factories().factories, { [ENV.step]: 'plan' })).toThrow(InvalidConfigError);
    expect(() => createHandler(factories().factories, { [ENV.step]: 'plan' })).toThrow(ENV.config);
  });

  it('fails at cold start when the function names no step of the registry, listing the steps', () => {
    expect(() => createHandler(factories().factories, config)).toThrow(`${ENV.step} is not set`);
    expect(() => createHandler(factories().factories, env('verify'))).toThrow(
      /TALLY_STEP is 'verify': it must name the step this function runs, one of plan, countSource, /,
    );
  });

  it('runs its step and tags every log line with the job and table, never a credential', async () => {
    const f = factories();
    const planHandler = createHandler(f.factories, env('plan'));
    const countHandler = createHandler(f.factories, env('countSource'));
    const lines = captureLogs();
    const planned = (await planHandler(
      { executionId: 'exec-1', stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } },
      context,
    )) as { tables: { jobId: string; table: string }[] };
    const work = planned.tables[0]!;
    lines.length = 0;
    const counted = await countHandler(
      { executionId: 'exec-1', stateName: 'CountSource', attempt: 0, state: { work, executionId: 'exec-1' } },
      context,
    );
    vi.restoreAllMocks();
    expect(counted).toEqual({ sourceCount: 0, stepMs: expect.any(Number) });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line).toMatchObject({
        step: 'CountSource',
        state: 'CountSource',
        jobId: work.jobId,
        table: 'public.orders',
      });
    }
    expect(lines.join('')).not.toContain('never-logged');
  });

  it('runs its step on a clock of the time the invocation has left, and no clock is left behind', async () => {
    const f = factories();
    const seen: (StepClock | undefined)[] = [];
    const bootstrap = f.warehouse.warehouse.bootstrap.bind(f.warehouse.warehouse);
    f.warehouse.warehouse.bootstrap = async (tables) => {
      seen.push(currentStepClock());
      return bootstrap(tables);
    };
    const handler = createHandler(f.factories, env('plan'));
    captureLogs();
    const before = Date.now();
    await handler(
      { executionId: 'exec-1', stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } },
      context,
    );
    const clock = seen[0];
    // 60 s left: the step's Snowflake work must end 15 s (a quarter) before the invocation does.
    expect(clock?.endsAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(clock?.endsAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(clock?.marginMs).toBe(15_000);
    expect(clock?.deadline).toBe(clock!.endsAt - 15_000);
    expect(currentStepClock()).toBeUndefined();
  });

  it('writes its embedded metrics to standard output in Lambda, and none anywhere else', async () => {
    const f = factories();
    const inLambda = createHandler(f.factories, { ...env('plan'), AWS_LAMBDA_FUNCTION_NAME: 'tally-plan' });
    const elsewhere = createHandler(f.factories, env('plan'));
    const event = { executionId: 'exec-1', stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } };
    const lines = captureLogs();
    await inLambda(event, context);
    const fromLambda = lines.splice(0).map((l) => JSON.parse(l) as Record<string, unknown>);
    await elsewhere(event, context);
    const fromElsewhere = lines.splice(0).map((l) => JSON.parse(l) as Record<string, unknown>);
    vi.restoreAllMocks();
    const documents = fromLambda.filter((line) => '_aws' in line);
    expect(documents).toEqual([
      expect.objectContaining({
        service: 'tally',
        FunctionName: 'tally-step',
        MaxMemoryUsed: expect.any(Number),
      }),
    ]);
    expect(fromElsewhere.length).toBeGreaterThan(0);
    expect(fromElsewhere.filter((line) => '_aws' in line)).toEqual([]);
  });

  it('reuses its connections across warm invocations', async () => {
    const f = factories();
    const handler = createHandler(f.factories, env('plan'));
    captureLogs();
    for (let i = 0; i < 3; i++) {
      await handler(
        { executionId: `exec-${i}`, stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } },
        context,
      );
    }
    expect(f.opened()).toBe(1);
  });

  it('signs checkpoints with the key of the checkpoint secret, read once per cold start, and never logs it', async () => {
    const KEY = 'checkpoint-key-never-logged-'.padEnd(64, 'k');
    const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/checkpoint-AbCdEf';
    const asked: string[] = [];
    const secretsClient = {
      send: async (command: { input: { SecretId?: string } }) => {
        asked.push(command.input.SecretId ?? '');
        return { SecretString: JSON.stringify({ key: KEY, previousKeys: [] }) };
      },
    } as never;
    const f = factories();
    const deployed = JSON.parse(config[ENV.config]) as Record<string, unknown>;
    const handler = createHandler(
      f.factories,
      {
        ...env('plan'),
        [ENV.config]: JSON.stringify({ ...deployed, audit: { checkpointEvery: 1 } }),
        [ENV.checkpointSecretArn]: SECRET_ARN,
      },
      { secretsClient },
    );
    const lines = captureLogs();
    for (let i = 0; i < 2; i++) {
      await handler(
        { executionId: `exec-${i}`, stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } },
        context,
      );
    }
    vi.restoreAllMocks();
    expect(asked).toEqual([SECRET_ARN]);
    const stage = f.factories.stage();
    const keys = await stage.list('tally/audit/checkpoints/');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      const checkpoint = (await stage.getJson<Checkpoint>(key))!;
      expect(hasValidSignature(checkpoint, Buffer.from(KEY)), key).toBe(true);
    }
    expect(lines.join('')).not.toContain('never-logged');
  });
});
