// cdk-nag's AwsSolutions pack over the stack with the least-privilege options on: Object Lock on the audit
// mirror, named secrets under a customer-managed key, and the construct in a VPC with a KMS-encrypted
// bucket. No finding may remain unacknowledged, and every acknowledgement must say why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AuditedTransferPipeline } from '../../lib/audited-transfer-pipeline';
import { postgresEndpoint, snowflakeTarget } from '../../lib/tally-stack';
import { buildStack, newApp, TEST_CONFIG } from '../support/cdk';

interface Violation {
  readonly ruleName: string;
  readonly reason?: string;
  readonly violatingConstructs: { readonly constructPath: string }[];
}
interface Report {
  readonly pluginReports: {
    readonly pluginName: string;
    readonly violations: Violation[];
    readonly suppressedViolations: Violation[];
  }[];
}

function checkedApp(): App {
  const app = newApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** The findings left open, as `rule at path`; synthesis fails with them listed when there are any. */
function openFindings(app: App): string[] {
  let directory: string;
  try {
    directory = app.synth().directory;
  } catch (err) {
    return [`synthesis failed under cdk-nag: ${(err as Error).message}`];
  }
  const report = JSON.parse(readFileSync(join(directory, 'validation-report.json'), 'utf8')) as Report;
  const packs = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
  expect(packs).toHaveLength(1);
  for (const v of packs.flatMap((p) => p.suppressedViolations)) {
    expect(v.reason, v.ruleName).toMatch(/^\S+(\s+\S+){7,}/);
  }
  return packs.flatMap((p) =>
    p.violations.map(
      (v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
    ),
  );
}

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('cdk-nag AwsSolutions with the least-privilege options', () => {
  it('leaves no finding open with Object Lock and secrets under a customer-managed key', () => {
    const app = checkedApp();
    buildStack(
      {
        postgresSecret: 'tally/postgres',
        snowflakeSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/snowflake-AbCdEf',
        secretsKmsKeyArn: KEY_ARN,
        auditObjectLock: 'COMPLIANCE',
        auditObjectLockDays: 365,
      },
      app,
    );
    expect(openFindings(app)).toEqual([]);
  });

  it('leaves no finding open for the construct in a VPC with a KMS-encrypted bucket', () => {
    const app = checkedApp();
    const stack = new Stack(app, 'Consumer');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    });
    new AuditedTransferPipeline(stack, 'Transfers', {
      tables: TEST_CONFIG.tables,
      postgres: postgresEndpoint(TEST_CONFIG),
      snowflake: snowflakeTarget(TEST_CONFIG),
      postgresSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Pg', 'tally/postgres'),
      snowflakeSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Sf', 'tally/snowflake'),
      bucketEncryption: s3.BucketEncryption.KMS,
      auditObjectLockMode: s3.ObjectLockMode.GOVERNANCE,
      vpc,
    });
    expect(openFindings(app)).toEqual([]);
  });
});
