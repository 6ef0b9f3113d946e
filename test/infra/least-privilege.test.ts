// Template assertions on what each function may do and what no one may do: the S3 actions of each step's
// prefixes, the bucket policy that keeps the audit mirror append-only, Object Lock, the network-interface
// permissions of a function in a VPC, the customer-managed key of imported secrets, the lifecycle rules
// and the state machine's log group name.
import { App, Names, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { lineageSchema } from '../../lambdas/config';
import { InvalidConfigError } from '../../lambdas/domain/errors';
import { ENV } from '../../lambdas/runtime/env';
import { STEP_NAMES, STEPS, type StepName, type StepPrefix } from '../../lambdas/steps/registry';
import { auditLockFromContext } from '../../lib/audit-lock-context';
import { AuditedTransferPipeline } from '../../lib/audited-transfer-pipeline';
import { NETWORK_DESCRIBE_ACTIONS, NETWORK_INTERFACE_ACTIONS } from '../../lib/step-lambda';
import { postgresEndpoint, snowflakeTarget, type TallyStack } from '../../lib/tally-stack';
import { logicalIdOf, NO_BUNDLING, render, resourcesOf, TEST_CONFIG, tallyStack } from '../support/cdk';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of the policies attached to the role with logical id `roleId`. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties?.Roles as { Ref?: string }[] | undefined)?.some((r) => r.Ref === roleId))
    .flatMap(
      (p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    );
}

function bucketPolicy(template: Template, bucketId: string): Statement[] {
  const policy = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).find(
    (p) => render(p.Properties?.Bucket) === `<${bucketId}>`,
  );
  return (policy?.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
}

function pipelineIn(stack: Stack, extra: Partial<ConstructorParameters<typeof AuditedTransferPipeline>[2]>) {
  return new AuditedTransferPipeline(stack, 'Transfers', {
    tables: TEST_CONFIG.tables,
    postgres: postgresEndpoint(TEST_CONFIG),
    snowflake: snowflakeTarget(TEST_CONFIG),
    postgresSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Pg', 'tally/postgres'),
    snowflakeSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Sf', 'tally/snowflake'),
    ...extra,
  });
}

function runtimeS3Config(stack: TallyStack, template: Template, step: StepName) {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[
    logicalIdOf(stack, stack.pipeline.functions[step].function)
  ];
  const variables =
    (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return (JSON.parse(render(variables[ENV.config])) as { s3: Record<string, unknown> }).s3;
}

describe('each step in the bucket', () => {
  let stack: TallyStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = tallyStack());
  });
  const roleOf = (step: StepName) => logicalIdOf(stack, stack.pipeline.functions[step].role);
  const bucketArn = () => `<${logicalIdOf(stack, stack.pipeline.bucket)}.Arn>`;

  /** The S3 actions a role has on each object pattern of the bucket. */
  function objectActions(step: StepName): Record<string, string[]> {
    const byResource: Record<string, string[]> = {};
    for (const s of statementsOf(template, roleOf(step))) {
      for (const resource of list(s.Resource).map(render)) {
        if (!resource.startsWith(`${bucketArn()}/`)) continue;
        byResource[resource.slice(bucketArn().length + 1)] = list(s.Action).sort();
      }
    }
    return byResource;
  }

  it('may write, abort and remove staged parts only in the export, and never read them back', () => {
    for (const step of STEP_NAMES) {
      const staging = objectActions(step)['tally/staging/*'];
      if (step === 'exportToS3') {
        expect(staging).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject']);
      } else {
        expect(staging, step).toBeUndefined();
      }
    }
  });

  it("may write the tables' columns in Plan alone, and only read them in the steps that use them", () => {
    for (const step of STEP_NAMES) {
      const plans = objectActions(step)['tally/staging/plans/*'];
      const prefixes: readonly string[] = STEPS[step].prefixes;
      if (step === 'plan') expect(plans).toEqual(['s3:PutObject']);
      else if (prefixes.includes('plans-read')) expect(plans, step).toEqual(['s3:GetObject']);
      else expect(plans, step).toBeUndefined();
    }
    expect(STEPS.composeAlert.prefixes).toEqual([]);
    expect(objectActions('composeAlert')).toEqual({});
  });

  it('may read, write and remove audit objects, with no version deletion, tagging or ACL action', () => {
    for (const step of STEP_NAMES) {
      if (!(STEPS[step].prefixes as readonly string[]).includes('audit')) continue;
      expect(objectActions(step)['tally/audit/*'], step).toEqual([
        's3:DeleteObject',
        's3:GetObject',
        's3:PutObject',
      ]);
      const actions = statementsOf(template, roleOf(step)).flatMap((s) => list(s.Action));
      for (const action of actions) {
        expect(action, step).not.toMatch(/^s3:.*\*|^s3:DeleteObjectVersion|^s3:PutObject(Acl|Tagging)/);
      }
    }
  });

  it('may keep, read back and remove undelivered lineage events in the steps that send them alone', () => {
    for (const step of STEP_NAMES) {
      const lineage = objectActions(step)['tally/lineage/*'];
      if (step === 'plan' || step === 'writeAudit') {
        expect(lineage, step).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
      } else {
        expect(lineage, step).toBeUndefined();
      }
    }
  });

  it('may list only under the prefixes of its step', () => {
    const paths: Record<StepPrefix, string> = {
      staging: 'tally/staging/*',
      audit: 'tally/audit/*',
      plans: 'tally/staging/plans/*',
      'plans-read': 'tally/staging/plans/*',
      lineage: 'tally/lineage/*',
    };
    for (const step of STEP_NAMES) {
      const listing = statementsOf(template, roleOf(step)).filter((s) =>
        list(s.Action).includes('s3:ListBucket'),
      );
      const prefixes: readonly StepPrefix[] = STEPS[step].prefixes;
      if (prefixes.length === 0) {
        expect(listing, step).toEqual([]);
        continue;
      }
      expect(listing, step).toHaveLength(1);
      expect(render(listing[0]?.Resource)).toBe(bucketArn());
      expect(listing[0]?.Condition, step).toEqual({
        StringLike: { 's3:prefix': prefixes.map((prefix) => paths[prefix]) },
      });
    }
  });
});

describe('the audit mirror in the bucket policy', () => {
  let stack: TallyStack;
  let template: Template;
  let statements: Statement[];
  beforeAll(() => {
    ({ stack, template } = tallyStack());
    statements = bucketPolicy(template, logicalIdOf(stack, stack.pipeline.bucket));
  });
  const denial = (sid: string) => statements.find((s) => s.Sid === sid);
  const bucketArn = () => `<${logicalIdOf(stack, stack.pipeline.bucket)}.Arn>`;

  it('denies everyone the deletion of any version under the audit prefix', () => {
    expect(denial('AuditVersionsAreKept')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:DeleteObjectVersion',
    });
    expect(render(denial('AuditVersionsAreKept')?.Resource)).toBe(`${bucketArn()}/tally/audit/*`);
  });

  it("denies everyone the removal of a mirrored event or checkpoint, but not of the writer's own state", () => {
    const rule = denial('AuditEventsAreNotDeleted');
    expect(rule).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:DeleteObject' });
    // Mirrored events sit two folders below the prefix (<job>/<table>/<event>.json); tail.json and an
    // earlier writer's pending/<event>.json sit less deep; checkpoints are named by their folder.
    expect(list(rule?.Resource).map(render)).toEqual([
      `${bucketArn()}/tally/audit/*/*/*`,
      `${bucketArn()}/tally/audit/checkpoints/*`,
    ]);
  });

  it('denies a write to a mirrored event or a checkpoint that could replace one (no If-None-Match)', () => {
    expect(denial('AuditEventsAreWrittenOnce')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Condition: { Null: { 's3:if-none-match': 'true' } },
    });
    expect(list(denial('AuditEventsAreWrittenOnce')?.Resource).map(render)).toEqual([
      `${bucketArn()}/tally/audit/*/*/*`,
      `${bucketArn()}/tally/audit/checkpoints/*`,
    ]);
  });

  it('has no Object Lock unless asked for', () => {
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalIdOf(stack, stack.pipeline.bucket)];
    expect(bucket?.Properties?.ObjectLockEnabled).toBeUndefined();
    expect(runtimeS3Config(stack, template, 'writeAudit').auditRetention).toBeUndefined();
  });
});

describe('Object Lock on the audit mirror', () => {
  const lockedStack = (mode: 'GOVERNANCE' | 'COMPLIANCE', days?: number) =>
    tallyStack({ auditObjectLock: mode, ...(days !== undefined ? { auditObjectLockDays: days } : {}) });

  it('creates the bucket with Object Lock and locks each mirrored event for the mirror retention', () => {
    const { stack, template } = lockedStack('COMPLIANCE');
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalIdOf(stack, stack.pipeline.bucket)];
    expect(bucket?.Properties).toMatchObject({
      ObjectLockEnabled: true,
      VersioningConfiguration: { Status: 'Enabled' },
    });
    // No default retention: staged parts and the writer's own state must stay removable.
    expect(bucket?.Properties?.ObjectLockConfiguration).toBeUndefined();
    for (const step of STEP_NAMES) {
      expect(runtimeS3Config(stack, template, step).auditRetention, step).toEqual({
        mode: 'COMPLIANCE',
        days: 2557,
      });
      const audit = statementsOf(template, logicalIdOf(stack, stack.pipeline.functions[step].role)).find(
        (s) =>
          list(s.Resource)
            .map(render)
            .some((r) => r.endsWith('/tally/audit/*')),
      );
      if ((STEPS[step].prefixes as readonly string[]).includes('audit')) {
        expect(list(audit?.Action ?? []), step).toContain('s3:PutObjectRetention');
      } else {
        expect(audit, step).toBeUndefined();
      }
    }
  });

  it('takes the lock retention in days from -c auditObjectLockDays', () => {
    const { stack, template } = lockedStack('GOVERNANCE', 400);
    expect(runtimeS3Config(stack, template, 'writeAudit').auditRetention).toEqual({
      mode: 'GOVERNANCE',
      days: 400,
    });
  });

  it('reads the context settings and refuses values S3 would not take', () => {
    const from = (values: Record<string, string>) => auditLockFromContext((key) => values[key]);
    expect(from({})).toEqual({});
    expect(from({ auditObjectLock: 'GOVERNANCE' })).toEqual({ auditObjectLock: 'GOVERNANCE' });
    expect(from({ auditObjectLock: 'COMPLIANCE', auditObjectLockDays: '365' })).toEqual({
      auditObjectLock: 'COMPLIANCE',
      auditObjectLockDays: 365,
    });
    expect(() => from({ auditObjectLock: 'governance' })).toThrow(
      /auditObjectLock is 'governance'.*GOVERNANCE or COMPLIANCE/,
    );
    expect(() => from({ auditObjectLock: 'GOVERNANCE', auditObjectLockDays: '1.5' })).toThrow(
      InvalidConfigError,
    );
    expect(() => from({ auditObjectLock: 'GOVERNANCE', auditObjectLockDays: '0' })).toThrow(/at least 1/);
    expect(() => from({ auditObjectLockDays: '30' })).toThrow(/needs -c auditObjectLock/);
  });

  it('refuses Object Lock for a bucket the construct does not create', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Consumer');
    const bucket = s3.Bucket.fromBucketName(stack, 'Given', 'given-bucket');
    expect(() => pipelineIn(stack, { bucket, auditObjectLockMode: s3.ObjectLockMode.GOVERNANCE })).toThrow(
      /enable Object Lock on the given bucket itself/,
    );
  });
});

describe('a function in a VPC', () => {
  let stack: Stack;
  let template: Template;
  let pipeline: AuditedTransferPipeline;
  beforeAll(() => {
    stack = new Stack(new App({ context: NO_BUNDLING }), 'Consumer');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    });
    pipeline = pipelineIn(stack, { vpc });
    template = Template.fromStack(stack);
  });

  it('gets the network-interface permissions alone, not the managed VPC policy with its log grants', () => {
    for (const step of STEP_NAMES) {
      const fn = pipeline.functions[step];
      const role = resourcesOf(template, 'AWS::IAM::Role')[
        stack.getLogicalId(fn.role.node.defaultChild as never)
      ];
      expect(role?.Properties?.ManagedPolicyArns, step).toBeUndefined();
      const statements = statementsOf(template, stack.getLogicalId(fn.role.node.defaultChild as never));
      const eni = statements.find((s) => s.Sid === 'NetworkInterfaces');
      expect(list(eni?.Action ?? []).sort(), step).toEqual([...NETWORK_INTERFACE_ACTIONS].sort());
      expect(render(eni?.Resource)).toMatch(/:ec2:.*AWS::Region.*AWS::AccountId.*:\*\/\*/);
      const describe = statements.find((s) => s.Sid === 'DescribeNetworkInterfaces');
      expect(list(describe?.Action ?? []).sort(), step).toEqual([...NETWORK_DESCRIBE_ACTIONS].sort());
      expect(describe?.Resource).toBe('*');
      // No log action on every log group: each function writes only its own.
      for (const s of statements) {
        if (list(s.Action).some((a) => a.startsWith('logs:'))) expect(s.Resource, step).not.toBe('*');
      }
    }
  });

  it('is created only after its role may create the network interfaces', () => {
    for (const step of STEP_NAMES) {
      const fn = pipeline.functions[step];
      const policyId = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).find(([, p]) =>
        ((p.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some(
          (r) => r.Ref === stack.getLogicalId(fn.role.node.defaultChild as never),
        ),
      )?.[0];
      template.hasResource('AWS::Lambda::Function', {
        Properties: Match.objectLike({ Description: STEPS[step].description }),
        DependsOn: Match.arrayWith([policyId]),
      });
    }
  });
});

describe('secrets encrypted with a customer-managed key', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('may be decrypted through Secrets Manager only, by the functions that read a secret', () => {
    const { stack, template } = tallyStack({
      postgresSecret: 'tally/postgres',
      snowflakeSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/snowflake-AbCdEf',
      secretsKmsKeyArn: keyArn,
    });
    for (const step of STEP_NAMES) {
      const statements = statementsOf(template, logicalIdOf(stack, stack.pipeline.functions[step].role));
      const decrypt = statements.filter((s) => list(s.Resource).includes(keyArn));
      if (STEPS[step].secrets.length === 0) {
        // The alert's function reads no secret, so it gets neither the secret nor its key.
        expect(decrypt, step).toEqual([]);
        expect(statements.some((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))).toBe(false);
        continue;
      }
      expect(decrypt.length, step).toBeGreaterThan(0);
      for (const s of decrypt) {
        expect(list(s.Action), step).toEqual(['kms:Decrypt']);
        expect(render(s.Condition?.StringEquals?.['kms:ViaService'])).toBe(
          'secretsmanager.<AWS::Region>.amazonaws.com',
        );
      }
      // The named secret is still the one read.
      const reads = statements.filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'));
      expect(
        reads
          .flatMap((s) => list(s.Resource))
          .map(render)
          .join(' '),
        step,
      ).toMatch(/tally\/(postgres|snowflake)/);
      expect(STEPS[step].secrets.length).toBeGreaterThan(0);
    }
  });

  it('refuses an alias or a key id in -c secretsKmsKeyArn, which IAM cannot scope a grant to', () => {
    for (const value of ['alias/tally-secrets', '1234abcd-12ab-34cd-56ef-1234567890ab']) {
      expect(() => tallyStack({ postgresSecret: 'tally/postgres', secretsKmsKeyArn: value })).toThrow(
        new RegExp(`secretsKmsKeyArn is '${value}': it must be a KMS key ARN`),
      );
    }
  });

  it('gets no key grant without -c secretsKmsKeyArn', () => {
    const { template } = tallyStack({
      postgresSecret: 'tally/postgres',
      snowflakeSecret: 'tally/snowflake',
      auditCheckpointSecretArn: 'tally/checkpoint',
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('secretsmanager.');
  });
});

describe('the lifecycle rules', () => {
  it('move no audit object to another storage class and keep every version of the chain tail seven years', () => {
    const { template } = tallyStack();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'KeepAuditMirror',
            Prefix: 'tally/audit/',
            Status: 'Enabled',
            ExpirationInDays: 2557,
            NoncurrentVersionExpiration: { NoncurrentDays: 2557 },
          },
        ]),
      },
    });
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('STANDARD_IA');
    expect(json).not.toContain('"Transitions"');
  });
});

describe("the state machine's log group", () => {
  it('sits under /aws/vendedlogs/states/, named uniquely for the stack', () => {
    const { stack, template } = tallyStack();
    const machine = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'))[0];
    const logging = machine?.Properties?.LoggingConfiguration as
      | { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[] }
      | undefined;
    const destination = render(logging?.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn);
    const groupId = /<([A-Za-z0-9]+)\.Arn>/.exec(destination)?.[1] ?? '';
    const group = resourcesOf(template, 'AWS::Logs::LogGroup')[groupId];
    // The stack id's last part (a UUID) keeps a group retained from a deleted stack out of the next one's way.
    expect(render(group?.Properties?.LogGroupName)).toBe(
      `/aws/vendedlogs/states/${Names.uniqueId(stack.pipeline)}-{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}`,
    );
  });
});

describe('the OpenLineage key', () => {
  const lineage = (transport: Record<string, unknown>) =>
    lineageSchema.parse({ transport: { type: 'http', url: 'https://marquez.example.com', ...transport } });

  it('is read from its secret by the steps that send lineage events, and by no other', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Lineage', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const pipeline = pipelineIn(stack, { lineage: lineage({ apiKeySecret: 'tally/openlineage' }) });
    const template = Template.fromStack(stack);
    for (const step of STEP_NAMES) {
      const reads = statementsOf(template, logicalIdOf(stack, pipeline.functions[step].role))
        .filter((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((s) => list(s.Resource).map(render))
        .filter((r) => r.includes('tally/openlineage'));
      if (step === 'plan' || step === 'writeAudit') expect(reads, step).toHaveLength(1);
      else expect(reads, step).toEqual([]);
    }
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[
      logicalIdOf(stack, pipeline.functions.plan.function)
    ];
    const variables =
      (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(JSON.parse(render(variables[ENV.config])).lineage.transport).toMatchObject({
      apiKeySecret: 'tally/openlineage',
    });
  });

  it('is never deployed when written in the configuration', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'LineageKey');
    expect(() => pipelineIn(stack, { lineage: lineage({ apiKey: 'do-not-deploy' }) })).toThrow(
      /lineage\.transport\.apiKey would be deployed.*apiKeySecret/,
    );
  });
});
