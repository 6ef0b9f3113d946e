// Template assertions on the Tally stack: the schedule, the bucket and topic protections, the functions'
// settings and environment, the state machine's logging and tracing, and IAM scoped to what it needs.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_NAME, ENV, FROM_SECRET, loadRuntimeSettings } from '../../lambdas/runtime/env';
import { STEP_NAMES, STEPS, type StepName } from '../../lambdas/steps/registry';
import { AuditedTransferPipeline } from '../../lib/audited-transfer-pipeline';
import { prefixPath } from '../../lib/prefix-grants';
import { postgresEndpoint, snowflakeTarget, type TallyStack } from '../../lib/tally-stack';
import { logicalIdOf, NO_BUNDLING, render, resourcesOf, TEST_CONFIG, tallyStack } from '../support/cdk';

let stack: TallyStack;
let template: Template;
let json: string;

beforeAll(() => {
  ({ stack, template } = tallyStack());
  json = JSON.stringify(template.toJSON());
});

const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(stack, construct);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const policies = () =>
  Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).map(([policyId, p]) => ({
    policyId,
    roles: render((p.Properties?.Roles as unknown[] | undefined)?.[0]),
    statements: (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
  }));
/** Every statement of the policies attached to a role (`<LogicalId>`). */
const policiesOf = (role: string): Statement[] =>
  policies()
    .filter((p) => p.roles === role)
    .flatMap((p) => p.statements);

describe('the schedule', () => {
  it('is off until enabled: a first deploy has placeholder secrets and no historical load yet', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(30 minutes)',
      State: 'DISABLED',
    });
  });

  it('once enabled, starts the incremental pipeline on the state machine every 30 minutes', () => {
    const { stack, template } = tallyStack({ scheduleEnabled: true });
    const id = (construct: { node: { defaultChild?: unknown } }) => logicalIdOf(stack, construct);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(30 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { Ref: id(stack.pipeline.stateMachine) },
          Input: JSON.stringify({ pipeline: 'incremental' }),
        }),
      ],
    });
    // Two schedules, the pipeline's and the daily audit verification's (audit-verification.test.ts),
    // which runs once this one does; the other rules are the execution alerts (execution-alerts.test.ts).
    const scheduled = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
      (r) => r.Properties?.ScheduleExpression !== undefined,
    );
    expect(scheduled.map((r) => [r.Properties?.ScheduleExpression, r.Properties?.State]).sort()).toEqual([
      ['rate(1 day)', 'ENABLED'],
      ['rate(30 minutes)', 'ENABLED'],
    ]);
  });
});

describe('the staging bucket', () => {
  it('is encrypted, blocks public access, keeps its data on stack deletion and logs access', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    });
  });

  it('refuses every request that does not use TLS', () => {
    const bucketId = id(stack.pipeline.bucket);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires staged files after two weeks but keeps the audit mirror for years', () => {
    const buckets = resourcesOf(template, 'AWS::S3::Bucket');
    const props = buckets[id(stack.pipeline.bucket)]?.Properties as {
      LifecycleConfiguration: { Rules: { Prefix?: string; ExpirationInDays?: number; Status: string }[] };
    };
    const rules = props.LifecycleConfiguration.Rules;
    const staging = rules.find((r) => r.Prefix === 'tally/staging/');
    const audit = rules.find((r) => r.Prefix === 'tally/audit/');
    expect(staging).toMatchObject({ Status: 'Enabled', ExpirationInDays: 14 });
    expect(audit?.Status).toBe('Enabled');
    expect(audit?.ExpirationInDays).toBeGreaterThanOrEqual(365 * 7);
  });
});

describe('the alert topic', () => {
  it('is encrypted with the pipeline key and refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [id(stack.pipeline.key), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('the step Lambdas, derived from the step registry', () => {
  const fnOf = (step: StepName) =>
    resourcesOf(template, 'AWS::Lambda::Function')[id(stack.pipeline.functions[step].function)];
  const variablesOf = (step: StepName) =>
    Object.fromEntries(
      Object.entries(
        (fnOf(step)?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)
          ?.Variables ?? {},
      ).map(([k, v]) => [k, render(v)]),
    );

  it('are one function per registry entry, with its description, timeout and memory, and no other', () => {
    // And the audit verification's function (audit-verification.test.ts).
    expect(Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))).toHaveLength(STEP_NAMES.length + 1);
    for (const step of STEP_NAMES) {
      const spec = STEPS[step];
      expect(fnOf(step)?.Properties, step).toMatchObject({
        Description: spec.description,
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
      });
      expect(variablesOf(step), step).toMatchObject({
        [ENV.step]: step,
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('read exactly the secrets their registry entry names', () => {
    const secretEnv = {
      postgres: ENV.postgresSecretArn,
      snowflake: ENV.snowflakeSecretArn,
      checkpoint: ENV.checkpointSecretArn,
    } as const;
    for (const step of STEP_NAMES) {
      const variables = variablesOf(step);
      for (const [secret, name] of Object.entries(secretEnv)) {
        const granted = (STEPS[step].secrets as readonly string[]).includes(secret);
        expect(name in variables, `${step} ${secret}`).toBe(granted);
      }
    }
  });

  it('read and write exactly the S3 prefixes their registry entry names', () => {
    const bucketArn = `<${id(stack.pipeline.bucket)}.Arn>`;
    for (const step of STEP_NAMES) {
      const role = `<${id(stack.pipeline.functions[step].role)}>`;
      const objects = policiesOf(role)
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(render))
        .filter((r) => r.startsWith(`${bucketArn}/`));
      expect(new Set(objects), step).toEqual(
        new Set(STEPS[step].prefixes.map((prefix) => `${bucketArn}/${prefixPath('tally', prefix)}*`)),
      );
    }
  });

  it('run Node.js 24 on ARM64 with X-Ray tracing and their own log group', () => {
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/LogGroup/) } },
      });
    }
    const groups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    // One per step, the audit verification's, and the state machine's.
    expect(groups).toHaveLength(STEP_NAMES.length + 2);
    for (const group of groups) {
      expect(group.Properties).toMatchObject({ RetentionInDays: 365, KmsKeyId: expect.anything() });
    }
  });

  it('give the export the memory and the 15 minutes it may need', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('export'),
      MemorySize: 2048,
      Timeout: 900,
    });
  });

  it('carry a configuration without credentials that the handlers accept, with the secrets named', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[
      id(stack.pipeline.functions.exportToS3.function)
    ];
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, render(v)]));
    // The bundle's configuration file, as the bundle carries it, beside the code.
    const codeDir = mkdtempSync(join(tmpdir(), 'tally-code-'));
    for (const [name, content] of Object.entries(stack.pipeline.functions.exportToS3.bundledFiles)) {
      writeFileSync(join(codeDir, name), content);
    }
    expect(env[ENV.configFile]).toBe(CONFIG_FILE_NAME);
    const settings = loadRuntimeSettings(env, { codeDir });
    expect(settings.config.tables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      'public.customers',
      'sales.orders',
    ]);
    expect(settings.config.postgres).toMatchObject({
      host: '10.0.1.20',
      port: 5433,
      database: 'shop',
      user: 'tally',
    });
    expect(settings.config.postgres.password).toBeUndefined();
    expect(settings.config.snowflake.password).toBe(FROM_SECRET);
    expect(settings.config.s3.bucket).toBe(`<${id(stack.pipeline.bucket)}>`);
    expect(settings.postgresSecretArn).toMatch(/PostgresSecret/);
    expect(settings.snowflakeSecretArn).toMatch(/SnowflakeSecret/);
  });

  it('deploy a configuration of 200 tables: the tables ride in the bundle, the environment stays small', () => {
    const tables = Array.from({ length: 200 }, (_, i) => ({
      schema: 'sales',
      name: `table_with_a_long_enough_name_${i}`,
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    }));
    const wide = tallyStack({ config: { ...TEST_CONFIG, tables } });
    for (const step of STEP_NAMES) {
      const fn = resourcesOf(wide.template, 'AWS::Lambda::Function')[
        logicalIdOf(wide.stack, wide.stack.pipeline.functions[step].function)
      ];
      const variables =
        (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      // Lambda's limit is 4 KB over every name and value; tokens resolve to ARNs far shorter than this.
      const size = Object.entries(variables).reduce((n, [k, v]) => n + k.length + render(v).length, 0);
      expect(size, step).toBeLessThan(2_048);
      const file = JSON.parse(wide.stack.pipeline.functions[step].bundledFiles[CONFIG_FILE_NAME] ?? '{}');
      expect(file.tables, step).toHaveLength(200);
    }
  });

  it('never deploy a credential written in the configuration file', () => {
    expect(json).not.toContain('do-not-deploy');
  });
});

describe('the state machine', () => {
  it('is a standard workflow that logs everything to an encrypted log group, traces, and times out', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const machine = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.parse(render(machine?.Properties?.DefinitionString)) as {
      TimeoutSeconds: number;
    };
    expect(definition.TimeoutSeconds).toBe(7200);
  });
});

describe('IAM', () => {
  const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
  // Actions AWS does not scope to a resource: X-Ray segments and CloudWatch Logs delivery setup.
  const unscopable =
    /^(xray:|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))/;

  it('allows a wildcard resource only for actions AWS cannot scope', () => {
    for (const { policyId, statements } of policies()) {
      for (const s of statements.filter((st) => list(st.Resource).includes('*'))) {
        for (const action of list(s.Action)) expect(action, policyId).toMatch(unscopable);
      }
    }
  });

  it('scopes the functions to the bucket, the secrets, their log groups and nothing else', () => {
    const p = stack.pipeline;
    const allowed = [
      `<${id(p.bucket)}.Arn>`,
      `<${id(p.bucket)}.Arn>/tally/audit/*`,
      `<${id(p.bucket)}.Arn>/tally/staging/*`,
      `<${id(p.bucket)}.Arn>/tally/staging/plans/*`,
      `<${id(p.bucket)}.Arn>/tally/lineage/*`,
      `<${logicalIdOf(stack, stack.node.findChild('PostgresSecret'))}>`,
      `<${logicalIdOf(stack, stack.node.findChild('SnowflakeSecret'))}>`,
      `<${id(p.checkpointSecret as never)}>`,
      ...Object.values(p.functions).map((f) => `<${id(f.logGroup)}.Arn>`),
    ];
    const fnRoles = new Set(Object.values(p.functions).map((f) => `<${id(f.role)}>`));
    const fnPolicies = policies().filter((pol) => fnRoles.has(pol.roles));
    expect(fnPolicies).toHaveLength(STEP_NAMES.length);
    for (const { policyId, statements } of fnPolicies) {
      for (const s of statements) {
        for (const resource of list(s.Resource).map(render)) {
          if (resource === '*') continue;
          expect(allowed, `${policyId}: ${resource}`).toContain(resource);
        }
      }
    }
  });

  it('gives the PostgreSQL secret only to the steps that read PostgreSQL', () => {
    const pgSecret = `<${logicalIdOf(stack, stack.node.findChild('PostgresSecret'))}>`;
    const readers = policies()
      .filter((pol) => pol.statements.some((s) => list(s.Resource).map(render).includes(pgSecret)))
      .map((pol) => pol.roles);
    const f = stack.pipeline.functions;
    expect(readers.sort()).toEqual(
      [f.plan, f.countSource, f.exportToS3, f.verifyValues, f.checkDeletes]
        .map((fn) => `<${id(fn.role)}>`)
        .sort(),
    );
  });

  it('lets the state machine invoke only the step functions and publish only to the alert topic', () => {
    const p = stack.pipeline;
    const smRole = `<${id(p.stateMachine.role)}>`;
    const statements = policies().find((pol) => pol.roles === smRole)?.statements ?? [];
    const byAction = (prefix: string) =>
      statements
        .filter((s) => list(s.Action).some((a) => a.startsWith(prefix)))
        .flatMap((s) => list(s.Resource).map(render));
    const fnArns = Object.values(p.functions).flatMap((f) => [
      `<${id(f.function)}.Arn>`,
      `<${id(f.function)}.Arn>:*`,
    ]);
    expect(new Set(byAction('lambda:'))).toEqual(new Set(fnArns));
    expect(new Set(byAction('sns:'))).toEqual(new Set([`<${id(p.alertTopic)}>`]));
    expect(new Set(byAction('kms:'))).toEqual(new Set([`<${id(p.key)}.Arn>`]));
  });

  it('attaches no managed policy to the step functions', () => {
    for (const f of Object.values(stack.pipeline.functions)) {
      const role = resourcesOf(template, 'AWS::IAM::Role')[id(f.role)];
      expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('the construct with a KMS-encrypted bucket', () => {
  it('encrypts the bucket with the pipeline key and lets the functions use that key only', () => {
    const app = new App({ context: NO_BUNDLING });
    const consumer = new Stack(app, 'Consumer');
    const pipeline = new AuditedTransferPipeline(consumer, 'Transfers', {
      tables: TEST_CONFIG.tables,
      postgres: postgresEndpoint(TEST_CONFIG),
      snowflake: snowflakeTarget(TEST_CONFIG),
      postgresSecret: secretsmanager.Secret.fromSecretNameV2(consumer, 'Pg', 'tally/postgres'),
      snowflakeSecret: secretsmanager.Secret.fromSecretNameV2(consumer, 'Sf', 'tally/snowflake'),
      bucketEncryption: s3.BucketEncryption.KMS,
      maxConcurrency: 2,
    });
    const kmsTemplate = Template.fromStack(consumer);
    const keyArn = { 'Fn::GetAtt': [consumer.getLogicalId(pipeline.key.node.defaultChild as never), 'Arn'] };
    kmsTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          }),
        ],
      },
    });
    const exportRole = consumer.getLogicalId(pipeline.functions.exportToS3.role.node.defaultChild as never);
    kmsTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: exportRole }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
          }),
        ]),
      },
    });
    const machine = Object.values(resourcesOf(kmsTemplate, 'AWS::StepFunctions::StateMachine'))[0];
    expect(render(machine?.Properties?.DefinitionString)).toContain('"MaxConcurrency":2');
  });
});
