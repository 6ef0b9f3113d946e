// The role Snowflake's storage integration assumes, the CA bundle shipped for PostgreSQL, and the stack's
// outputs: read-only on the staging prefix, a placeholder trust on the first deploy and Snowflake's user
// with its external id on the second; the outputs the guide and the command line read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { LAMBDA_CA_FILE, parseConfig } from '../../lambdas/config';
import { ENV } from '../../lambdas/runtime/env';
import { SHIPPED_CA_FILE } from '../../lib/postgres-ca-bundle';
import { PLACEHOLDER_EXTERNAL_ID, SnowflakeStorageRole } from '../../lib/snowflake-storage-role';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { buildStack, logicalIdOf, NO_BUNDLING, render, resourcesOf, TEST_CONFIG } from '../support/cdk';

const USER = 'arn:aws:iam::987654321098:user/abc1-s-v2st1234';
const EXTERNAL_ID = 'ACME_SFCRole=2_abcdefghijklmnopqrstuvwxyz0=';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Principal?: unknown;
};

function roleOf(template: Template, stack: Stack, role: SnowflakeStorageRole) {
  const roleId = logicalIdOf(stack, role.role);
  const resource = resourcesOf(template, 'AWS::IAM::Role')[roleId];
  const trust = ((resource?.Properties?.AssumeRolePolicyDocument ?? {}) as { Statement: Statement[] })
    .Statement;
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => render(((p.Properties?.Roles ?? {}) as unknown[])[0]) === `<${roleId}>`)
    .flatMap((p) => ((p.Properties?.PolicyDocument ?? {}) as { Statement: Statement[] }).Statement);
  return { trust, statements };
}

describe("the Snowflake storage integration's role", () => {
  it('may only read and list the staging prefix of the bucket the functions write to', () => {
    const stack = buildStack();
    const template = Template.fromStack(stack);
    const { statements } = roleOf(template, stack, stack.snowflakeRole);
    const bucket = `<${logicalIdOf(stack, stack.pipeline.bucket)}.Arn>`;
    expect(
      statements.map((s) => ({
        sid: s.Sid,
        action: s.Action,
        resource: render(s.Resource),
        condition: s.Condition,
      })),
    ).toEqual([
      {
        sid: 'ReadStagedFiles',
        action: ['s3:GetObject', 's3:GetObjectVersion'],
        resource: `${bucket}/tally/staging/*`,
        condition: undefined,
      },
      {
        sid: 'ListStagedFiles',
        action: 's3:ListBucket',
        resource: bucket,
        condition: { StringLike: { 's3:prefix': ['tally/staging/*'] } },
      },
      { sid: 'LocateBucket', action: 's3:GetBucketLocation', resource: bucket, condition: undefined },
    ]);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('trusts a placeholder on the first deploy: this account, with the external id 0000', () => {
    const stack = buildStack();
    const { trust } = roleOf(Template.fromStack(stack), stack, stack.snowflakeRole);
    expect(trust).toHaveLength(1);
    expect(render(((trust[0]?.Principal ?? {}) as { AWS?: unknown }).AWS)).toBe(
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:root',
    );
    expect(trust[0]?.Condition).toEqual({ StringEquals: { 'sts:ExternalId': PLACEHOLDER_EXTERNAL_ID } });
    expect(stack.snowflakeRole.placeholderTrust).toBe(true);
  });

  it("trusts Snowflake's IAM user with the integration's external id on the second deploy", () => {
    const stack = buildStack({ snowflakeIamUserArn: USER, snowflakeExternalId: EXTERNAL_ID });
    const { trust } = roleOf(Template.fromStack(stack), stack, stack.snowflakeRole);
    expect(trust).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: USER },
        Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
      },
    ]);
  });

  it('refuses half of the pair, or a value that is not an IAM user ARN', () => {
    expect(() => buildStack({ snowflakeIamUserArn: USER })).toThrow(
      /give both -c snowflakeIamUser and -c snowflakeExternalId/,
    );
    expect(() => buildStack({ snowflakeExternalId: EXTERNAL_ID })).toThrow(/give both/);
    expect(() =>
      buildStack({ snowflakeIamUserArn: 'abc1-s-v2st1234', snowflakeExternalId: EXTERNAL_ID }),
    ).toThrow(/is not an IAM user ARN/);
  });

  it('may decrypt with the bucket key, through S3 only, when the bucket uses KMS', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Consumer', { env: { region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
    });
    const role = new SnowflakeStorageRole(stack, 'Reader', { bucket, stagingPrefix: 'tally/staging/', key });
    const { statements } = roleOf(Template.fromStack(stack), stack, role);
    const decrypt = statements.find((s) => s.Sid === 'DecryptStagedFiles');
    expect(decrypt?.Action).toBe('kms:Decrypt');
    expect(render(decrypt?.Resource)).toBe(`<${logicalIdOf(stack, key)}.Arn>`);
    expect(decrypt?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } });
  });

  it('gets no key grant with the stack’s SSE-S3 bucket', () => {
    const stack = buildStack();
    const { statements } = roleOf(Template.fromStack(stack), stack, stack.snowflakeRole);
    expect(statements.flatMap((s) => s.Action).some((a) => String(a).startsWith('kms:'))).toBe(false);
  });
});

describe('the stack outputs', () => {
  it('are the state machine, the bucket, the alert topic, the Snowflake role, the secrets and the checkpoint key, the schedule dead-letter queue and the dashboard', () => {
    const stack = buildStack();
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
    const p = stack.pipeline;
    expect(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, render(v.Value)]))).toEqual({
      [STACK_OUTPUTS.stateMachineArn]: `<${logicalIdOf(stack, p.stateMachine)}>`,
      [STACK_OUTPUTS.bucketName]: `<${logicalIdOf(stack, p.bucket)}>`,
      [STACK_OUTPUTS.alertTopicArn]: `<${logicalIdOf(stack, p.alertTopic)}>`,
      [STACK_OUTPUTS.snowflakeRoleArn]: `<${logicalIdOf(stack, stack.snowflakeRole.role)}.Arn>`,
      [STACK_OUTPUTS.postgresSecretArn]: `<${logicalIdOf(stack, stack.node.findChild('PostgresSecret'))}>`,
      [STACK_OUTPUTS.snowflakeSecretArn]: `<${logicalIdOf(stack, stack.node.findChild('SnowflakeSecret'))}>`,
      [STACK_OUTPUTS.checkpointSecretArn]: `<${logicalIdOf(stack, p.checkpointSecret as never)}>`,
      [STACK_OUTPUTS.scheduleDeadLetterQueueUrl]: `<${logicalIdOf(stack, p.monitoring.scheduleDeadLetterQueue)}>`,
      [STACK_OUTPUTS.dashboardName]: `<${logicalIdOf(stack, p.monitoring.dashboard)}>`,
    });
  });

  it('name the configured bucket when the stack uses it', () => {
    const stack = buildStack({ useConfiguredBucket: true });
    Template.fromStack(stack).hasOutput(STACK_OUTPUTS.bucketName, { Value: 'configured-bucket' });
  });
});

describe('the PostgreSQL CA bundle', () => {
  const configWith = (ssl: unknown) =>
    parseConfig({ ...TEST_CONFIG, postgres: { ...TEST_CONFIG.postgres, ssl } });
  const deployedSsl = (stack: ReturnType<typeof buildStack>) => {
    const [fn] = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'));
    const env = ((fn?.Properties?.Environment ?? {}) as { Variables: Record<string, unknown> }).Variables;
    return (JSON.parse(render(env[ENV.config])) as { postgres: { ssl: unknown } }).postgres.ssl;
  };

  it('is shipped with every function as a layer, and the deployed configuration reads it there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-ca-'));
    const file = join(dir, 'global-bundle.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const stack = buildStack({ config: configWith({ mode: 'verify-full', caFile: file }) });
    const template = Template.fromStack(stack);
    expect(Object.keys(resourcesOf(template, 'AWS::Lambda::LayerVersion'))).toHaveLength(1);
    // Every step's; the audit verification never connects to PostgreSQL.
    for (const step of Object.values(stack.pipeline.functions)) {
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(stack, step.function)];
      expect(render(fn?.Properties?.Layers)).toMatch(/PostgresCaBundleLayer/);
    }
    expect(deployedSsl(stack)).toEqual({ mode: 'verify-full', caFile: SHIPPED_CA_FILE });
  });

  it("keeps Lambda's own Amazon CA file as it is, with no layer", () => {
    const stack = buildStack({ config: configWith({ mode: 'verify-full', caFile: LAMBDA_CA_FILE }) });
    expect(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::LayerVersion')).toEqual({});
    expect(deployedSsl(stack)).toEqual({ mode: 'verify-full', caFile: LAMBDA_CA_FILE });
  });

  it('deploys verify-full by default and refuses a bundle it cannot read', () => {
    expect(deployedSsl(buildStack({ config: configWith(undefined) }))).toEqual({ mode: 'verify-full' });
    expect(() => buildStack({ config: configWith({ caFile: '/nonexistent/bundle.pem' }) })).toThrow(
      /cannot be read to ship it with the functions/,
    );
  });
});
