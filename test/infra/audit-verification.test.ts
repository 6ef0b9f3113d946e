// The daily audit verification in the deployed stack: off until asked for, then a function on a daily
// schedule with only the grants it needs (the Snowflake secret, the audit mirror read, its own record
// written, the alert topic), an alarm on its failures, and nothing cdk-nag finds unacknowledged; with
// Object Lock the checkpoints it compares against are locked like the mirrored events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/runtime/env';
import type { TallyStack } from '../../lib/tally-stack';
import { buildStack, logicalIdOf, newApp, render, resourcesOf, tallyStack } from '../support/cdk';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties?.Roles as { Ref?: string }[] | undefined)?.some((r) => r.Ref === roleId))
    .flatMap(
      (p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    );
}

describe('the daily audit verification', () => {
  let stack: TallyStack;
  let template: Template;
  beforeAll(() => {
    ({ stack, template } = tallyStack({ auditVerification: true }));
  });
  const verification = () => {
    const v = stack.pipeline.auditVerification;
    if (!v) throw new Error('no audit verification in the stack');
    return v;
  };

  it('is not deployed unless asked for', () => {
    expect(buildStack().pipeline.auditVerification).toBeUndefined();
  });

  it('runs its own handler once a day, told where the alert topic and the Snowflake secret are', () => {
    const fnId = logicalIdOf(stack, verification().function.function);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[fnId];
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(render(variables[ENV.alertTopicArn])).toBe(`<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`);
    expect(variables[ENV.snowflakeSecretArn]).toBeDefined();
    expect(variables[ENV.postgresSecretArn]).toBeUndefined();
    expect(fn?.Properties?.Timeout).toBe(900);
    const rule = resourcesOf(template, 'AWS::Events::Rule')[logicalIdOf(stack, verification().schedule)];
    expect(rule?.Properties?.ScheduleExpression).toBe('rate(1 day)');
    expect(rule?.Properties?.State).toBe('ENABLED');
    const targets = rule?.Properties?.Targets as { Arn: unknown }[];
    expect(targets.map((t) => render(t.Arn))).toEqual([`<${fnId}.Arn>`]);
  });

  it('may read the audit mirror, write only its record, read the Snowflake secret and publish alerts: nothing else', () => {
    const roleId = logicalIdOf(stack, verification().function.role);
    const bucket = `<${logicalIdOf(stack, stack.pipeline.bucket)}.Arn>`;
    const grants = statementsOf(template, roleId).map((s) => ({
      actions: list(s.Action).sort(),
      resources: list(s.Resource).map(render),
      ...(s.Condition ? { condition: s.Condition } : {}),
    }));
    const s3 = grants.filter((g) => g.actions.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      { actions: ['s3:GetObject'], resources: [`${bucket}/tally/audit/*`] },
      { actions: ['s3:PutObject'], resources: [`${bucket}/tally/audit/verified.json`] },
      {
        actions: ['s3:ListBucket'],
        resources: [bucket],
        condition: { StringLike: { 's3:prefix': ['tally/audit/*'] } },
      },
    ]);
    const publish = grants.filter((g) => g.actions.includes('sns:Publish'));
    expect(publish).toEqual([
      { actions: ['sns:Publish'], resources: [`<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`] },
    ]);
    const secrets = grants.filter((g) => g.actions.some((a) => a.startsWith('secretsmanager:')));
    expect(secrets.flatMap((g) => g.resources)).toEqual([
      `<${logicalIdOf(stack, stack.node.findChild('SnowflakeSecret'))}>`,
    ]);
    const all = grants.flatMap((g) => g.actions);
    expect(all.filter((a) => /^s3:(Delete|PutObjectRetention|\*)|^sns:\*|^states:|^lambda:/.test(a))).toEqual(
      [],
    );
  });

  it('alarms on the alert topic when a verification fails or breaks', () => {
    const alarm = resourcesOf(template, 'AWS::CloudWatch::Alarm')[
      logicalIdOf(stack, verification().errorAlarm)
    ];
    expect(alarm?.Properties).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(((alarm?.Properties?.AlarmActions as unknown[] | undefined) ?? []).map(render)).toEqual([
      `<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`,
    ]);
  });

  it('leaves cdk-nag nothing unacknowledged, with Object Lock and the verification both on', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    buildStack({ auditVerification: true, auditObjectLock: 'COMPLIANCE', auditObjectLockDays: 400 }, app);
    const report = JSON.parse(
      readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
    };
    const packs = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(packs).toHaveLength(1);
    expect(packs.flatMap((p) => p.violations.map((v) => v.ruleName))).toEqual([]);
  });

  it('locks the checkpoints with Object Lock, as it locks each mirrored event', () => {
    const locked = tallyStack({ auditObjectLock: 'COMPLIANCE', auditObjectLockDays: 400 });
    const bucket = resourcesOf(locked.template, 'AWS::S3::Bucket')[
      logicalIdOf(locked.stack, locked.stack.pipeline.bucket)
    ];
    expect(bucket?.Properties?.ObjectLockEnabled).toBe(true);
    // The writer puts checkpoints with keepJson, which carries the retention the functions are configured with.
    const fn = resourcesOf(locked.template, 'AWS::Lambda::Function')[
      logicalIdOf(locked.stack, locked.stack.pipeline.functions.writeAudit.function)
    ];
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(JSON.parse(render(variables[ENV.config])).s3.auditRetention).toEqual({
      mode: 'COMPLIANCE',
      days: 400,
    });
  });
});
