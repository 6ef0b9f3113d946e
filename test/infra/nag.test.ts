// cdk-nag's AwsSolutions pack over the whole app: no finding may remain unacknowledged, and every
// acknowledgement must say why.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AuditedTransferPipeline } from '../../lib/audited-transfer-pipeline';
import { postgresEndpoint, snowflakeTarget } from '../../lib/tally-stack';
import { buildStack, newApp, TEST_CONFIG } from '../support/cdk';

interface Violation {
  readonly ruleName: string;
  readonly acknowledgedId?: string;
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

/** An app with the AwsSolutions pack registered before anything is built in it. */
function checkedApp(): App {
  const app = newApp();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

function nagReport(app: App): Report {
  let directory: string;
  try {
    directory = app.synth().directory;
  } catch (err) {
    // Findings that are not acknowledged fail the synthesis; its message lists them.
    throw new Error(`synthesis failed under cdk-nag: ${(err as Error).message}`);
  }
  return JSON.parse(readFileSync(join(directory, 'validation-report.json'), 'utf8')) as Report;
}

function expectCleanReport(report: Report): Violation[] {
  const packs = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
  expect(packs).toHaveLength(1);
  const unacknowledged = packs.flatMap((p) =>
    p.violations.map(
      (v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
    ),
  );
  expect(unacknowledged).toEqual([]);
  const acknowledged = packs.flatMap((p) => p.suppressedViolations);
  for (const v of acknowledged) {
    // A reason is a sentence, not a placeholder.
    expect(v.reason, `${v.acknowledgedId} needs a reason`).toMatch(/^\S+(\s+\S+){7,}/);
  }
  return acknowledged;
}

describe('cdk-nag AwsSolutions', () => {
  it('leaves no finding unacknowledged in the Tally stack, and each acknowledgement has a reason', () => {
    const app = checkedApp();
    buildStack({}, app);
    const acknowledged = expectCleanReport(nagReport(app));
    // The pack did run: the findings CDK's grants cannot avoid are there, acknowledged.
    const rules = acknowledged.map((v) => v.ruleName.replace(/\[.*$/, ''));
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-IAM5', 'AwsSolutions-SMG4']));
    // The functions run the newest Node.js runtime Lambda offers: nothing to acknowledge.
    expect(rules).not.toContain('AwsSolutions-L1');
  });

  it('leaves no finding unacknowledged for the construct in a VPC with secrets named by name and ARN', () => {
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
      snowflakeSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        'Sf',
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/snowflake-AbCdEf',
      ),
      vpc,
      alertEmails: ['data-team@example.com'],
    });
    expectCleanReport(nagReport(app));
  });
});
