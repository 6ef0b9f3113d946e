// The README's deploy guide, run as far as it runs without an AWS account: every `cdk deploy` and `cdk
// destroy` is synthesized by the CDK app with exactly its context, `tally snowflake-ddl --outputs` reads an
// outputs file keyed as the synthesized template names its outputs, `tally start --stack` runs against a
// loopback CloudFormation and Step Functions, and `tally audit` reads the embedded warehouse. Commands
// that only an AWS account can answer (`cdk bootstrap`, the AWS CLI) are listed, and nothing else is left.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuditTable, createSchema } from '../../lambdas/adapters/snowflake/ddl';
import { writeConfigFile } from '../../lambdas/config-file';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { DEMO_TABLES, seedDemo } from '../../local/demo-data';
import { localConfig } from '../../local/local-config';
import { NO_BUNDLING } from '../support/cdk';
import { scratchFolder, tallyWith } from '../support/cli';
import { type FakeAws, startFakeAws } from '../support/fake-aws';
import { freshDatabase } from '../support/postgres';
import { connect, destroy, exec } from '../support/snowflake-client';

const execute = promisify(execFile);
const dir = scratchFolder('tally-guide');

/** The shell commands of the guide's code blocks, continuation lines joined, indentation removed. */
function guideCommands(readme: string): string[] {
  const start = readme.indexOf('### Deploying, step by step');
  const end = readme.indexOf('\n## ', start);
  expect(start, 'the README has the deploy guide').toBeGreaterThan(0);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? '')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

/** Splits a command line into words as a shell would, for the quoting the guide uses. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

interface Guide {
  readonly variables: Record<string, string>;
  /** Each command with its variables expanded into words (an unquoted variable splits). */
  readonly commands: { readonly line: string; readonly argv: string[] }[];
}

function parseGuide(readme: string): Guide {
  const variables: Record<string, string> = {};
  const commands: Guide['commands'] = [];
  for (const line of guideCommands(readme)) {
    const assignment = /^(?:export )?([A-Z_]+)=(.*)$/.exec(line);
    if (assignment) {
      variables[assignment[1] as string] = words(assignment[2] as string).join(' ');
      continue;
    }
    const expanded = line.replace(/\$([A-Z_]+)\b/g, (_, name: string) => {
      expect(variables, `${line}: $${name} is set above`).toHaveProperty(name);
      return variables[name] as string;
    });
    commands.push({ line, argv: words(expanded) });
  }
  return { variables, commands };
}

/** The `-c key=value` pairs of a cdk command (split at the first `=`, as the CDK CLI does). */
function contextOf(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  argv.forEach((word, i) => {
    if (word !== '-c' && word !== '--context') return;
    const pair = argv[i + 1] ?? '';
    const at = pair.indexOf('=');
    context[pair.slice(0, at)] = pair.slice(at + 1);
  });
  return context;
}

interface Synthesized {
  readonly template: {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };
  readonly warnings: string[];
}

/** Runs the CDK app as `cdk` would, with this context, without bundling; returns the template. */
async function synthesize(context: Record<string, string>, env: NodeJS.ProcessEnv): Promise<Synthesized> {
  const outdir = await mkdtemp(join(tmpdir(), 'tally-guide-cdk-'));
  const { stderr } = await execute(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    env: {
      ...process.env,
      ...env,
      CDK_CONTEXT_JSON: JSON.stringify({ ...NO_BUNDLING, ...context }),
      CDK_OUTDIR: outdir,
    },
    timeout: 240_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stack = context.stackName ?? 'Tally';
  const template = JSON.parse(await readFile(join(outdir, `${stack}.template.json`), 'utf8'));
  const manifest = JSON.parse(await readFile(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { metadata?: Record<string, { type: string; data: unknown }[]> }>;
  };
  const warnings = Object.values(manifest.artifacts[stack]?.metadata ?? {})
    .flat()
    .filter((m) => m.type === 'aws:cdk:warning')
    .map((m) => String(m.data));
  void stderr;
  return { template, warnings };
}

const BUCKET = 'tally-pipelinebucket-guide1234';
const ROLE = 'arn:aws:iam::123456789012:role/Tally-SnowflakeStorageRole-Guide';
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:PipelineStateMachine-Guide';

let guide: Guide;
let config: string;
let publicKey: string;
let aws: FakeAws;
const synthesized = new Map<string, Synthesized>();

/** The files the guide names, as the test provides them. */
function withFiles(argv: readonly string[]): string[] {
  const files: Record<string, string> = {
    'tally.json': config,
    'cdk-outputs.json': dir.file('cdk-outputs.json'),
    'tally_key.pub': publicKey,
  };
  return argv.map((word) => files[word] ?? word.replace(/^config=tally\.json$/, `config=${config}`));
}

const cdkCommands = () =>
  guide.commands.filter((c) => /^(deploy|destroy)$/.test(c.argv[2] ?? '') && c.argv[1] === 'cdk');
const tallyCommands = (name: string) =>
  guide.commands.filter((c) => c.argv[1] === 'tally' && c.argv[2] === name);

beforeAll(async () => {
  guide = parseGuide(await readFile('README.md', 'utf8'));
  const url = await freshDatabase(`guide_${process.pid}`);
  await seedDemo(url, { rows: 2, seed: 1 });
  config = dir.file('tally.json');
  // A warehouse schema of this file's own, with the audit table the administrator's script makes.
  const stack = inject('stack');
  const base = localConfig({ ...stack, postgres: { url } }, DEMO_TABLES);
  const local = { ...base, snowflake: { ...base.snowflake, schema: `GUIDE_${process.pid}` } };
  await writeConfigFile(config, local);
  const admin = await connect(stack.snowflake);
  try {
    await exec(admin, createSchema(local.snowflake));
    await exec(admin, createAuditTable(local.snowflake));
  } finally {
    await destroy(admin);
  }
  publicKey = dir.file('tally_key.pub');
  const { publicKey: pem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await writeFile(publicKey, pem);
  aws = await startFakeAws([
    {
      name: guide.variables.STACK ?? 'Tally',
      outputs: {
        [STACK_OUTPUTS.stateMachineArn]: STATE_MACHINE,
        [STACK_OUTPUTS.bucketName]: BUCKET,
        [STACK_OUTPUTS.snowflakeRoleArn]: ROLE,
      },
    },
  ]);
  // Synthesize every cdk command of the guide, two at a time.
  const pending = [...new Set(cdkCommands().map((c) => JSON.stringify(contextOf(withFiles(c.argv)))))];
  const env = { AWS_REGION: guide.variables.AWS_REGION ?? 'eu-west-1' };
  const run = async () => {
    for (let key = pending.shift(); key !== undefined; key = pending.shift()) {
      synthesized.set(key, await synthesize(JSON.parse(key), env));
    }
  };
  await Promise.all([run(), run()]);
}, 600_000);

afterAll(() => aws?.close());

function synthOf(line: RegExp): Synthesized {
  const command = cdkCommands().find((c) => line.test(c.line));
  expect(command, `the guide has a cdk command matching ${line}`).toBeDefined();
  const result = synthesized.get(JSON.stringify(contextOf(withFiles(command?.argv ?? []))));
  expect(result).toBeDefined();
  return result as Synthesized;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };
const ofType = (s: Synthesized, type: string): Resource[] =>
  Object.values(s.template.Resources).filter((r) => r.Type === type);
const trustOf = (s: Synthesized) => {
  const role = Object.entries(s.template.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('SnowflakeStorageRole'),
  )?.[1];
  return ((role?.Properties?.AssumeRolePolicyDocument ?? {}) as { Statement?: Record<string, unknown>[] })
    .Statement?.[0];
};

describe('the deploy guide', () => {
  it('runs every command offline but those only AWS can answer', () => {
    const offline = (argv: readonly string[]) =>
      (argv[1] === 'cdk' && /^(deploy|destroy)$/.test(argv[2] ?? '')) ||
      (argv[1] === 'tally' && ['snowflake-ddl', 'start', 'audit'].includes(argv[2] ?? ''));
    const online = (argv: readonly string[]) =>
      (argv[0] === 'npx' && argv[1] === 'cdk' && argv[2] === 'bootstrap') || argv[0] === 'aws';
    const unchecked = guide.commands.filter((c) => !offline(c.argv) && !online(c.argv)).map((c) => c.line);
    expect(unchecked).toEqual([]);
    expect(cdkCommands().map((c) => c.argv.slice(0, 3).join(' '))).toEqual([
      'npx cdk deploy',
      'npx cdk deploy',
      'npx cdk deploy',
      'npx cdk destroy',
    ]);
  });

  it('first deploy: the functions in the named subnets, a placeholder trust, the outputs, no route warning, the schedule off', () => {
    const first = synthOf(/^npx cdk deploy \$TALLY \$NETWORK --outputs-file/);
    const subnets = guide.variables.NETWORK?.match(/subnetIds=(\S+)/)?.[1]?.split(',');
    for (const fn of ofType(first, 'AWS::Lambda::Function')) {
      expect(((fn.Properties?.VpcConfig ?? {}) as { SubnetIds: string[] }).SubnetIds).toEqual(subnets);
    }
    expect(trustOf(first)?.Condition).toEqual({ StringEquals: { 'sts:ExternalId': '0000' } });
    expect(Object.keys(first.template.Outputs ?? {})).toEqual(
      expect.arrayContaining(Object.values(STACK_OUTPUTS)),
    );
    expect(ofType(first, 'AWS::EC2::VPCEndpoint')).toHaveLength(2);
    expect(ofType(first, 'AWS::EC2::SecurityGroupIngress').length).toBeGreaterThan(0);
    expect(first.warnings.filter((w) => /NAT|VPC endpoint|Snowflake/.test(w))).toEqual([]);
    // The schedule stays off until step 7 turns it on, and the daily audit verification with it.
    const rules = ofType(first, 'AWS::Events::Rule').filter((r) => r.Properties?.ScheduleExpression);
    expect(rules.map((r) => r.Properties?.State)).toEqual(['DISABLED', 'DISABLED']);
  });

  it("second deploy: the role trusts the integration's IAM user with its external id", () => {
    const second = synthOf(/^npx cdk deploy \$TALLY \$NETWORK \$SNOWFLAKE --outputs-file/);
    const snowflake = contextOf(words(guide.variables.SNOWFLAKE ?? ''));
    expect(trustOf(second)).toMatchObject({
      Principal: { AWS: snowflake.snowflakeIamUser },
      Condition: { StringEquals: { 'sts:ExternalId': snowflake.snowflakeExternalId } },
    });
  });

  it('enabling the schedule and tearing down synthesize with the same values', () => {
    const enabled = synthOf(/-c schedule=enabled/);
    const rules = ofType(enabled, 'AWS::Events::Rule').filter((r) => r.Properties?.ScheduleExpression);
    expect(rules.map((r) => r.Properties?.State)).toEqual(['ENABLED', 'ENABLED']);
    expect(trustOf(enabled)).toMatchObject({ Principal: { AWS: expect.stringMatching(/:user\//) } });
    synthOf(/^npx cdk destroy/);
  });

  it('prints the Snowflake script for the deployed bucket and role from the outputs file', async () => {
    const first = synthOf(/^npx cdk deploy \$TALLY \$NETWORK --outputs-file/);
    // What cdk deploy --outputs-file writes: the stack's outputs by the template's names.
    const values: Record<string, string> = {
      [STACK_OUTPUTS.stateMachineArn]: STATE_MACHINE,
      [STACK_OUTPUTS.bucketName]: BUCKET,
      [STACK_OUTPUTS.snowflakeRoleArn]: ROLE,
    };
    const outputs = Object.fromEntries(
      Object.keys(first.template.Outputs ?? {}).map((k) => [k, values[k] ?? `${k}-value`]),
    );
    await writeFile(
      dir.file('cdk-outputs.json'),
      JSON.stringify({ [guide.variables.STACK ?? 'Tally']: outputs }),
    );
    const [ddl] = tallyCommands('snowflake-ddl');
    expect(ddl, 'the guide prints the Snowflake script').toBeDefined();
    const argv = withFiles(ddl?.argv ?? []);
    const redirect = argv.indexOf('>');
    const { code, stdout, stderr } = await tallyWith(
      { env: aws.env() },
      ...argv.slice(2, redirect === -1 ? undefined : redirect),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`STORAGE_AWS_ROLE_ARN = '${ROLE}'`);
    expect(stdout).toContain(`STORAGE_ALLOWED_LOCATIONS = ('s3://${BUCKET}/tally/')`);
    expect(stdout).toContain('CREATE USER IF NOT EXISTS');
    expect(stdout).not.toContain('<<FILL IN');
  }, 120_000);

  it('starts the historical load on the state machine the stack outputs', async () => {
    const [start] = tallyCommands('start');
    expect(start?.argv).toContain('historical');
    const { code, stdout, stderr } = await tallyWith(
      { env: aws.env() },
      ...withFiles(start?.argv ?? []).slice(2),
    );
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toMatch(/:execution:PipelineStateMachine-Guide:historical-manual-/);
  }, 120_000);

  it('reads the audit log with the configuration', async () => {
    const [audit] = tallyCommands('audit');
    const { code, stderr } = await tallyWith({ env: aws.env() }, ...withFiles(audit?.argv ?? []).slice(2));
    expect(code, stderr).toBe(0);
  }, 120_000);
});
