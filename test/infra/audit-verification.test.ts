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
import { STEP_NAMES, STEPS } from '../../lambdas/steps/registry';
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
    ({ stack, template } = tallyStack({ auditVerificationScheduleEnabled: true }));
  });
  const verification = () => {
    const v = stack.pipeline.auditVerification;
    if (!v) throw new Error('no audit verification in the stack');
    return v;
  };

  it('is deployed by default, and left out with auditVerification false (-c auditVerification=disabled)', () => {
    expect(buildStack().pipeline.auditVerification).toBeDefined();
    const { stack: without, template: withoutTemplate } = tallyStack({ auditVerification: false });
    expect(without.pipeline.auditVerification).toBeUndefined();
    const handlers = Object.values(resourcesOf(withoutTemplate, 'AWS::Lambda::Function')).map(
      (fn) =>
        (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables[
          ENV.step
        ],
    );
    expect(handlers).not.toContain('verifyAudit');
    expect(handlers).toHaveLength(STEP_NAMES.length);
    const daily = Object.values(resourcesOf(withoutTemplate, 'AWS::Events::Rule')).filter(
      (r) => r.Properties?.ScheduleExpression === 'rate(1 day)',
    );
    expect(daily).toEqual([]);
  });

  it('runs daily once the pipeline schedule does, or whatever it with auditVerificationScheduleEnabled', () => {
    const stateOf = (props: Parameters<typeof tallyStack>[0]) => {
      const built = tallyStack(props);
      const schedule = built.stack.pipeline.auditVerification?.schedule;
      if (!schedule) throw new Error('no audit verification in the stack');
      return resourcesOf(built.template, 'AWS::Events::Rule')[logicalIdOf(built.stack, schedule)]?.Properties
        ?.State;
    };
    expect(stateOf({})).toBe('DISABLED');
    expect(stateOf({ scheduleEnabled: true })).toBe('ENABLED');
    expect(stateOf({ auditVerificationScheduleEnabled: true })).toBe('ENABLED');
  });

  it('runs its own handler once a day, told where the alert topic and the Snowflake secret are', () => {
    const fnId = logicalIdOf(stack, verification().function.function);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[fnId];
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(render(variables[ENV.alertTopicArn])).toBe(`<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`);
    expect(variables[ENV.snowflakeSecretArn]).toBeDefined();
    expect(render(variables[ENV.checkpointSecretArn])).toBe(
      `<${logicalIdOf(stack, stack.pipeline.checkpointSecret as never)}>`,
    );
    expect(variables[ENV.postgresSecretArn]).toBeUndefined();
    expect(fn?.Properties?.Timeout).toBe(900);
    const rule = resourcesOf(template, 'AWS::Events::Rule')[logicalIdOf(stack, verification().schedule)];
    expect(rule?.Properties?.ScheduleExpression).toBe('rate(1 day)');
    expect(rule?.Properties?.State).toBe('ENABLED');
    const targets = rule?.Properties?.Targets as { Arn: unknown }[];
    expect(targets.map((t) => render(t.Arn))).toEqual([`<${fnId}.Arn>`]);
  });

  it('may read the audit mirror, write only its record, read the Snowflake and checkpoint secrets and publish alerts: nothing else', () => {
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
      `<${logicalIdOf(stack, stack.pipeline.checkpointSecret as never)}>`,
    ]);
    expect(secrets.flatMap((g) => g.actions).sort()).toEqual(
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'].flatMap((a) => [a, a]).sort(),
    );
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
    buildStack({ auditObjectLock: 'COMPLIANCE', auditObjectLockDays: 400 }, app);
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

describe("the audit checkpoints' HMAC key", () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/checkpoint-AbCdEf';
  const readersOf = (built: ReturnType<typeof tallyStack>, secret: string) =>
    Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) =>
        ((p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? []).some(
          (st) => list(st.Resource).map(render).includes(secret),
        ),
      )
      .map((p) => render((p.Properties?.Roles as unknown[] | undefined)?.[0]));
  const rolesWriting = (built: ReturnType<typeof tallyStack>) => [
    ...STEP_NAMES.filter((step) => (STEPS[step].prefixes as readonly string[]).includes('audit')).map(
      (step) => `<${logicalIdOf(built.stack, built.stack.pipeline.functions[step].role)}>`,
    ),
    `<${logicalIdOf(built.stack, built.stack.pipeline.auditVerification!.function.role)}>`,
  ];

  it('is a generated key, kept on stack deletion and encrypted with the pipeline key, by default', () => {
    const built = tallyStack();
    const id = logicalIdOf(built.stack, built.stack.pipeline.checkpointSecret as never);
    const secret = built.template.toJSON().Resources[id];
    expect(secret).toMatchObject({ Type: 'AWS::SecretsManager::Secret', DeletionPolicy: 'Retain' });
    expect(render(secret.Properties.KmsKeyId)).toBe(
      `<${logicalIdOf(built.stack, built.stack.pipeline.key)}.Arn>`,
    );
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'key',
      PasswordLength: 64,
      SecretStringTemplate: '{}',
    });
  });

  it('is read, and only read, by every function that writes audit events and by the verification', () => {
    const built = tallyStack();
    const secret = `<${logicalIdOf(built.stack, built.stack.pipeline.checkpointSecret as never)}>`;
    expect(readersOf(built, secret).sort()).toEqual(rolesWriting(built).sort());
    const actions = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .flatMap(
        (p) => (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
      )
      .filter((st) => list(st.Resource).map(render).includes(secret))
      .flatMap((st) => list(st.Action));
    expect(new Set(actions)).toEqual(
      new Set(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']),
    );
  });

  it('is the existing secret -c auditCheckpointSecretArn names, with none created, told to the functions', () => {
    const built = tallyStack({ auditCheckpointSecretArn: ARN });
    expect(
      Object.values(resourcesOf(built.template, 'AWS::SecretsManager::Secret')).filter((r) =>
        String(r.Properties?.Description).includes('checkpoint'),
      ),
    ).toEqual([]);
    expect(readersOf(built, ARN).sort()).toEqual(rolesWriting(built).sort());
    const fn = resourcesOf(built.template, 'AWS::Lambda::Function')[
      logicalIdOf(built.stack, built.stack.pipeline.functions.writeAudit.function)
    ];
    expect(
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables[
        ENV.checkpointSecretArn
      ],
    ).toBe(ARN);
  });
});
