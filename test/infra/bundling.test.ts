// The one test that bundles: every step's handler, built by esbuild as the deployed stack builds it, is
// copied alone into an empty folder (no node_modules beside it or above it, as in Lambda, where only the
// runtime's own SDK would be there to lean on) and run on Node 24, the major of the functions' runtime.
// Each must load, keep its names for error routing, and get as far as its first network call: reading
// its secrets from Secrets Manager, at a closed loopback port, which it reports as the named, retryable
// SecretUnavailableError. Plan is then taken one call further, with its secrets served by a loopback
// stand-in, to its first PostgreSQL connection, again at a closed port.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isBuiltin } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAME, ENV } from '../../lambdas/runtime/env';
import { STEP_NAMES, STEPS, type StepName } from '../../lambdas/steps/registry';
import { freePort } from '../../local/free-port';
import { buildStack, render, resourcesOf } from '../support/cdk';
import { NODE24_MAJOR, node24Binary } from '../support/node24';

const run = promisify(execFile);
const outdir = mkdtempSync(join(tmpdir(), 'tally-bundle-'));
const isolated = mkdtempSync(join(tmpdir(), 'tally-isolated-'));
let secretsServer: Server;
afterAll(async () => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(isolated, { recursive: true, force: true });
  await new Promise<void>((resolve) => (secretsServer ? secretsServer.close(() => resolve()) : resolve()));
});

const PG_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/postgres-AbCdEf';
const SF_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/snowflake-GhIjKl';
const CP_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/checkpoint-MnOpQr';

/**
 * Packages a bundled library asks for only inside a try, for a feature Tally does not use, and which
 * esbuild therefore leaves unresolved: pg requires pg-native only when `pg.native` is read.
 */
const OPTIONAL = new Set(['pg-native']);

/** The payload the state machine hands each step (enough to pass validation up to the first call). */
const EVENTS: Readonly<Record<StepName, unknown>> = {
  plan: { executionId: 'exec-1', stateName: 'Plan', attempt: 0, state: { pipeline: 'historical' } },
  countSource: { executionId: 'exec-1', stateName: 'CountSource', attempt: 0, state: {} },
  exportToS3: { executionId: 'exec-1', stateName: 'ExportToS3', attempt: 0, state: {} },
  loadSnowflake: { executionId: 'exec-1', stateName: 'LoadSnowflake', attempt: 0, state: {} },
  verifyCounts: { executionId: 'exec-1', stateName: 'VerifyCounts', attempt: 0, state: {} },
  verifyValues: { executionId: 'exec-1', stateName: 'VerifyValues', attempt: 0, state: {} },
  checkDeletes: { executionId: 'exec-1', stateName: 'CheckDeletes', attempt: 0, state: {} },
  writeAudit: { executionId: 'exec-1', stateName: 'AuditSuccess', attempt: 0, state: {} },
  composeAlert: {
    executionId: 'arn:aws:states:eu-west-1:123456789012:execution:tally:run-1',
    stateName: 'ComposeAlert',
    attempt: 0,
    state: {
      pipeline: 'incremental',
      error: { Error: 'InvalidInputError', Cause: '{"errorMessage":"no such table"}' },
    },
  },
};

/** Imports the bundle, calls its handler once and prints how it ended, as one JSON line. */
const DRIVER = `
const [bundle, eventJson] = process.argv.slice(1);
const { handler } = await import(bundle);
const context = {
  functionName: 'tally', awsRequestId: 'req-1', memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:tally',
  getRemainingTimeInMillis: () => 60000,
};
try {
  const result = await handler(JSON.parse(eventJson), context);
  console.log(JSON.stringify({ ok: true, result, node: process.version, handler: typeof handler }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, name: err?.name, message: err?.message, node: process.version }));
}
process.exit(0);
`;

interface Ending {
  readonly ok: boolean;
  readonly name?: string;
  readonly message?: string;
  readonly node: string;
}

/** Only what Lambda would set, plus loopback endpoints and explicit credentials: nothing of this process. */
function lambdaEnv(step: StepName | 'verifyAudit', endpoints: { secrets: string; postgresPort: number }) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_OPTIONS: '--enable-source-maps',
    [ENV.step]: step,
    // The environment's part of the configuration; the rest is the bundle's own file, as synthesized.
    [ENV.config]: JSON.stringify({
      postgres: { host: '127.0.0.1', port: endpoints.postgresPort, database: 'shop', connectTimeoutMs: 2000 },
      s3: { bucket: 'tally-bucket', region: 'eu-west-1' },
    }),
    [ENV.configFile]: CONFIG_FILE_NAME,
    // As the stack sets them: only the secrets the step reads.
    ...(secretsOf(step).includes('postgres') ? { [ENV.postgresSecretArn]: PG_ARN } : {}),
    ...(secretsOf(step).includes('snowflake') ? { [ENV.snowflakeSecretArn]: SF_ARN } : {}),
    ...(secretsOf(step).includes('checkpoint') ? { [ENV.checkpointSecretArn]: CP_ARN } : {}),
    ...(step === 'verifyAudit'
      ? { [ENV.alertTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:tally-alerts' }
      : {}),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secrets,
    AWS_EC2_METADATA_DISABLED: 'true',
    SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_DEV: 'false',
  };
}

/** The secrets the stack names in the function's environment; the audit verification's are its own. */
function secretsOf(step: StepName | 'verifyAudit'): readonly string[] {
  return step === 'verifyAudit' ? ['snowflake', 'checkpoint'] : STEPS[step].secrets;
}

async function invoke(
  bundle: string,
  step: StepName | 'verifyAudit',
  env: Record<string, string>,
): Promise<Ending> {
  const { stdout } = await run(
    node24Binary(),
    ['--input-type=module', '-e', DRIVER, bundle, JSON.stringify(step === 'verifyAudit' ? {} : EVENTS[step])],
    // Lambda unpacks the code into LAMBDA_TASK_ROOT and starts elsewhere: the file is found from there.
    {
      env: { ...env, LAMBDA_TASK_ROOT: dirname(bundle) },
      cwd: tmpdir(),
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Ending;
}

/** Every folder from `dir` up to the root: none may hold a node_modules the bundle could resolve from. */
function ancestors(dir: string): string[] {
  const parent = dirname(dir);
  return parent === dir ? [dir] : [dir, ...ancestors(parent)];
}

describe('bundling', () => {
  const bundles = new Map<StepName, string>();
  let verification: string | undefined;

  beforeAll(async () => {
    const app = new App({ outdir });
    const template = Template.fromStack(buildStack({}, app));
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    // Every step's, and the daily audit verification's.
    expect(functions).toHaveLength(STEP_NAMES.length + 1);
    // A function's code is the asset whose hash names its S3 key; its step is its TALLY_STEP.
    for (const fn of functions) {
      const key = render((fn.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key);
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
      const step = variables[ENV.step] as StepName;
      const asset = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
      const folder = join(isolated, step);
      mkdirSync(folder);
      copyFileSync(join(asset, 'index.mjs'), join(folder, 'index.mjs'));
      copyFileSync(join(asset, 'index.mjs.map'), join(folder, 'index.mjs.map'));
      // The tables, Snowflake and pipeline settings ride in the bundle, not the environment.
      expect(variables[ENV.configFile], step).toBe(CONFIG_FILE_NAME);
      copyFileSync(join(asset, CONFIG_FILE_NAME), join(folder, CONFIG_FILE_NAME));
      if ((step as string) === 'verifyAudit') verification = join(folder, 'index.mjs');
      else bundles.set(step, join(folder, 'index.mjs'));
    }
    expect([...bundles.keys()].sort()).toEqual([...STEP_NAMES].sort());
    expect(verification).toBeDefined();
  }, 300_000);

  it('builds each step into one ES module with its names kept and every package inside it', () => {
    for (const [step, bundle] of bundles) {
      for (const dir of ancestors(dirname(bundle))) {
        expect(existsSync(join(dir, 'node_modules')), `${step}: ${dir}`).toBe(false);
      }
      const code = readFileSync(bundle, 'utf8');
      // keepNames: esbuild re-attaches names that minification or renaming would lose.
      expect(code).toContain('__name(');
      // No import or require of a package is left for the runtime to provide, the AWS SDK included:
      // every module the bundle still loads by name is one of Node's own.
      const loaded = new Set(
        [
          ...code.matchAll(/^import\s[^;]*?from\s*"([^"]+)"|__require\("([^"]+)"\)|\bimport\("([^"]+)"\)/gm),
        ].map((m) => m[1] ?? m[2] ?? m[3] ?? ''),
      );
      expect(loaded.size, step).toBeGreaterThan(0);
      expect(
        [...loaded].filter((name) => !isBuiltin(name) && !OPTIONAL.has(name)),
        step,
      ).toEqual([]);
    }
  });

  it(`loads each bundle alone on Node ${NODE24_MAJOR} and reaches Secrets Manager, at a closed port: SecretUnavailableError`, {
    timeout: 300_000,
  }, async () => {
    const closed = await freePort();
    for (const [step, bundle] of bundles) {
      if (secretsOf(step).length === 0) continue;
      const ending = await invoke(
        bundle,
        step,
        lambdaEnv(step, { secrets: `http://127.0.0.1:${closed}`, postgresPort: closed }),
      );
      expect(ending.node, step).toMatch(new RegExp(`^v${NODE24_MAJOR}\\.`));
      expect(ending, step).toMatchObject({ ok: false, name: 'SecretUnavailableError' });
      expect(ending.message, step).toMatch(/ECONNREFUSED/);
    }
  });

  it(`loads the audit verification's bundle alone on Node ${NODE24_MAJOR} and reaches Secrets Manager, at a closed port: SecretUnavailableError`, {
    timeout: 60_000,
  }, async () => {
    const closed = await freePort();
    const ending = await invoke(
      verification ?? '',
      'verifyAudit',
      lambdaEnv('verifyAudit', { secrets: `http://127.0.0.1:${closed}`, postgresPort: closed }),
    );
    expect(ending.node).toMatch(new RegExp(`^v${NODE24_MAJOR}\\.`));
    expect(ending).toMatchObject({ ok: false, name: 'SecretUnavailableError' });
    expect(ending.message).toMatch(/ECONNREFUSED/);
  });

  it(`runs the alert's bundle alone on Node ${NODE24_MAJOR}, with no secret to read, to the alert it composes`, {
    timeout: 60_000,
  }, async () => {
    const closed = await freePort();
    const ending = (await invoke(
      bundles.get('composeAlert') ?? '',
      'composeAlert',
      lambdaEnv('composeAlert', { secrets: `http://127.0.0.1:${closed}`, postgresPort: closed }),
    )) as Ending & { result?: { subject: string; message: string } };
    expect(ending.node).toMatch(new RegExp(`^v${NODE24_MAJOR}\\.`));
    expect(ending.ok).toBe(true);
    expect(ending.result?.subject).toBe('Tally: incremental run failed in planning (InvalidInputError)');
    expect(ending.result?.message).toContain('InvalidInputError: no such table');
  });

  it('takes Plan from its secrets to its first PostgreSQL connection, at a closed port: SourceUnavailableError', {
    timeout: 120_000,
  }, async () => {
    secretsServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string };
        const value =
          SecretId === PG_ARN
            ? { password: 'pg-password' }
            : SecretId === CP_ARN
              ? { key: 'k'.repeat(64) }
              : { password: 'sf-password' };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: SecretId, Name: SecretId, SecretString: JSON.stringify(value) }));
      });
    });
    await new Promise<void>((resolve) => secretsServer.listen(0, '127.0.0.1', resolve));
    const secrets = `http://127.0.0.1:${(secretsServer.address() as AddressInfo).port}`;
    const ending = await invoke(
      bundles.get('plan') ?? '',
      'plan',
      lambdaEnv('plan', { secrets, postgresPort: await freePort() }),
    );
    expect(ending).toMatchObject({ ok: false, name: 'SourceUnavailableError' });
    expect(ending.message).toMatch(/ECONNREFUSED/);
  });
});
