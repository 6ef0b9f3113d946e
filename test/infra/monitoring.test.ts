// The pipeline's alarms, dashboard and schedule dead-letter queue, as the template deploys them: what each
// alarm watches, when it fires, and that CloudWatch may publish it to the encrypted alert topic.
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../lambdas/domain/errors';
import { METRICS_SERVICE_ENV } from '../../lambdas/runtime/metric-names';
import { STEP_NAMES, STEPS } from '../../lambdas/steps/registry';
import {
  AuditedTransferPipeline,
  type AuditedTransferPipelineProps,
} from '../../lib/audited-transfer-pipeline';
import { postgresEndpoint, snowflakeTarget } from '../../lib/tally-stack';
import { logicalIdOf, newApp, render, resourcesOf, TEST_CONFIG, tallyStack } from '../support/cdk';

interface AlarmMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
  readonly period: number;
}
interface Alarm {
  readonly name: string;
  /** The metric it reads, for an alarm on one metric. */
  readonly metric: AlarmMetric;
  /** For an alarm on a math expression: the expression and its metrics by id. */
  readonly expression?: string;
  readonly inputs: Readonly<Record<string, AlarmMetric>>;
  readonly threshold: number;
  readonly comparison: string;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly missingData: string;
  readonly actions: readonly string[];
}

interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] };
  Stat: string;
  Period: number;
}

function metricOf(stat: MetricStat): AlarmMetric {
  return {
    namespace: stat.Metric.Namespace,
    name: stat.Metric.MetricName,
    dimensions: Object.fromEntries(stat.Metric.Dimensions.map((d) => [d.Name, render(d.Value)])),
    stat: stat.Stat,
    period: stat.Period,
  };
}

const NO_METRIC: AlarmMetric = { namespace: '', name: '', dimensions: {}, stat: '', period: 0 };

/** Every alarm of the template, with the metrics it reads and its references rendered as `<Id>`. */
function alarmsOf(template: Template): Alarm[] {
  return Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(({ Properties: p = {} }) => {
    // An alarm on one metric (the audit verification's) names it itself; the others query metrics.
    const queries = (p.Metrics as
      | { Id: string; Expression?: string; MetricStat?: MetricStat }[]
      | undefined) ?? [
      {
        Id: 'm',
        MetricStat: {
          Metric: {
            Namespace: p.Namespace as string,
            MetricName: p.MetricName as string,
            Dimensions: (p.Dimensions as MetricStat['Metric']['Dimensions'] | undefined) ?? [],
          },
          Stat: p.Statistic as string,
          Period: p.Period as number,
        },
      },
    ];
    const inputs = Object.fromEntries(
      queries.flatMap((q) => (q.MetricStat ? [[q.Id, metricOf(q.MetricStat)]] : [])),
    ) as Record<string, AlarmMetric>;
    const expression = queries.find((q) => q.Expression !== undefined)?.Expression;
    return {
      name: p.AlarmName as string,
      metric: expression === undefined ? (Object.values(inputs)[0] ?? NO_METRIC) : NO_METRIC,
      ...(expression !== undefined ? { expression } : {}),
      inputs,
      threshold: p.Threshold as number,
      comparison: p.ComparisonOperator as string,
      evaluationPeriods: p.EvaluationPeriods as number,
      datapointsToAlarm: p.DatapointsToAlarm as number,
      missingData: p.TreatMissingData as string,
      actions: ((p.AlarmActions as unknown[] | undefined) ?? []).map(render),
    };
  });
}

function alarmOn(
  alarms: readonly Alarm[],
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
) {
  const found = alarms.filter(
    (a) =>
      a.metric.namespace === namespace &&
      a.metric.name === name &&
      Object.entries(dimensions).every(([k, v]) => a.metric.dimensions[k] === v),
  );
  expect(found, `one alarm on ${namespace} ${name} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return found[0]!;
}

/** Fires at the first period with any: the shape of every count alarm here. */
const ON_ANY = {
  threshold: 0,
  comparison: 'GreaterThanThreshold',
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
};

function pipelineTemplate(props: Partial<AuditedTransferPipelineProps>): Template {
  const stack = new Stack(newApp(), 'Consumer');
  new AuditedTransferPipeline(stack, 'Transfers', {
    tables: TEST_CONFIG.tables,
    postgres: postgresEndpoint(TEST_CONFIG),
    snowflake: snowflakeTarget(TEST_CONFIG),
    postgresSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Pg', 'tally/postgres'),
    snowflakeSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Sf', 'tally/snowflake'),
    ...props,
  });
  return Template.fromStack(stack);
}

describe('the pipeline monitoring, with the schedule enabled', () => {
  let template: Template;
  let alarms: Alarm[];
  let ids: {
    topic: string;
    stateMachine: string;
    rule: string;
    queue: string;
    functions: Record<string, string>;
  };
  let service: string;

  beforeAll(() => {
    const built = tallyStack({ scheduleEnabled: true });
    template = built.template;
    alarms = alarmsOf(template);
    const { pipeline } = built.stack;
    ids = {
      topic: `<${logicalIdOf(built.stack, pipeline.alertTopic)}>`,
      stateMachine: `<${logicalIdOf(built.stack, pipeline.stateMachine)}>`,
      rule: `<${logicalIdOf(built.stack, pipeline.schedule)}>`,
      queue: logicalIdOf(built.stack, pipeline.monitoring.scheduleDeadLetterQueue),
      functions: Object.fromEntries(
        STEP_NAMES.map((step) => [step, `<${logicalIdOf(built.stack, pipeline.functions[step].function)}>`]),
      ),
    };
    service = pipeline.monitoring.name;
  });

  it('sends every alarm to the alert topic, under a name of its own prefix, but those of endings alerted per execution', () => {
    expect(alarms.length).toBeGreaterThan(0);
    // Each failed, timed-out or aborted execution is alerted once with its details, by the definition or
    // the execution-status rules: their alarms show on the dashboard and do not page a second time.
    const alertedElsewhere = ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'];
    for (const alarm of alarms) {
      const silent = alertedElsewhere.includes(alarm.metric.name) && alarm.metric.namespace === 'AWS/States';
      expect(alarm.actions, alarm.name).toEqual(silent ? [] : [ids.topic]);
      expect(alarm.name.startsWith(`${service}-`), alarm.name).toBe(true);
    }
    expect(alarms.filter((a) => a.actions.length === 0)).toHaveLength(alertedElsewhere.length);
  });

  it('alarms on executions failed, timed out, throttled and aborted', () => {
    for (const name of [
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionThrottled',
      'ExecutionsAborted',
    ]) {
      const alarm = alarmOn(alarms, 'AWS/States', name, { StateMachineArn: ids.stateMachine });
      expect(alarm, name).toMatchObject({ ...ON_ANY, metric: { stat: 'Sum' }, missingData: 'notBreaching' });
    }
  });

  it("alarms on each function's errors, less the transient ones the state machine retries", () => {
    for (const step of STEP_NAMES) {
      const fn = ids.functions[step]!;
      const alarm = alarms.filter((a) =>
        Object.values(a.inputs).some(
          (m) => m.namespace === 'AWS/Lambda' && m.name === 'Errors' && m.dimensions.FunctionName === fn,
        ),
      );
      expect(alarm, step).toHaveLength(1);
      expect(alarm[0]).toMatchObject({ ...ON_ANY, missingData: 'notBreaching' });
      const [errors, transient] = Object.entries(alarm[0]!.inputs).sort(([a], [b]) => a.localeCompare(b));
      expect(errors?.[1]).toMatchObject({ stat: 'Sum', period: 300 });
      expect(transient?.[1]).toEqual({
        namespace: 'Tally',
        name: 'TransientErrors',
        dimensions: { service, FunctionName: fn },
        stat: 'Sum',
        period: 300,
      });
      expect(alarm[0]!.expression).toBe(`${errors?.[0]} - FILL(${transient?.[0]}, 0)`);
    }
  });

  it("alarms on each function's throttles, and on a duration past 80% of its timeout", () => {
    for (const step of STEP_NAMES) {
      const fn = { FunctionName: ids.functions[step]! };
      expect(alarmOn(alarms, 'AWS/Lambda', 'Throttles', fn), step).toMatchObject({
        ...ON_ANY,
        metric: { stat: 'Sum' },
      });
      expect(alarmOn(alarms, 'AWS/Lambda', 'Duration', fn), step).toMatchObject({
        threshold: STEPS[step].timeoutSeconds * 1000 * 0.8,
        comparison: 'GreaterThanThreshold',
        metric: { stat: 'Maximum' },
      });
    }
  });

  it("alarms on each function's peak memory past 80% of its own, which the function reports", () => {
    for (const step of STEP_NAMES) {
      const alarm = alarmOn(alarms, 'Tally', 'MaxMemoryUsed', { FunctionName: ids.functions[step]! });
      expect(alarm, step).toMatchObject({
        threshold: STEPS[step].memoryMb * 0.8,
        comparison: 'GreaterThanThreshold',
        metric: { stat: 'Maximum', dimensions: { service, FunctionName: ids.functions[step] } },
      });
    }
    // The dimension the alarms match is the one the functions write.
    for (const step of STEP_NAMES) {
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[ids.functions[step]!.slice(1, -1)]!;
      const env =
        (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(env[METRICS_SERVICE_ENV]).toBe(service);
    }
  });

  it('gives the schedule target an encrypted, TLS-only dead-letter queue that keeps a message 14 days', () => {
    const rule = resourcesOf(template, 'AWS::Events::Rule')[ids.rule.slice(1, -1)];
    const [target] = (rule?.Properties?.Targets ?? []) as {
      DeadLetterConfig?: { Arn: unknown };
      Arn: unknown;
    }[];
    expect(render(target?.Arn)).toBe(ids.stateMachine);
    expect(render(target?.DeadLetterConfig?.Arn)).toBe(`<${ids.queue}.Arn>`);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    const policies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      render(p.Properties?.Queues).includes(ids.queue),
    );
    const statements = policies.flatMap((p) => statementsOf(p.Properties?.PolicyDocument));
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // EventBridge may put the schedule's undelivered starts in it, for this rule only.
    const send = statements.find((s) => s.Action === 'sqs:SendMessage');
    expect(send?.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(JSON.stringify(resolved(send?.Condition))).toContain(`<${ids.rule.slice(1, -1)}.Arn>`);
  });

  it("alarms on the schedule's failed invocations and on any message in its dead-letter queue", () => {
    expect(alarmOn(alarms, 'AWS/Events', 'FailedInvocations', { RuleName: ids.rule })).toMatchObject({
      ...ON_ANY,
      metric: { stat: 'Sum' },
    });
    expect(
      alarmOn(alarms, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
        QueueName: `<${ids.queue}.QueueName>`,
      }),
    ).toMatchObject({ ...ON_ANY, metric: { stat: 'Maximum' } });
  });

  it('alarms for each table when no verified window was recorded for 3 intervals of 30 minutes', () => {
    const freshness = alarms.filter((a) => a.metric.name === 'VerifiedWindows');
    expect(freshness.map((a) => a.metric.dimensions.Table).sort()).toEqual([
      'public.customers',
      'sales.orders',
    ]);
    for (const alarm of freshness) {
      expect(alarm).toMatchObject({
        metric: {
          namespace: 'Tally',
          stat: 'Sum',
          period: 1800,
          dimensions: { service, Pipeline: 'incremental' },
        },
        threshold: 1,
        comparison: 'LessThanThreshold',
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No run at all is the staleness this alarm is for.
        missingData: 'breaching',
      });
    }
  });

  it("lets CloudWatch alarms of this pipeline, and nothing else, use the topic's key and publish to it", () => {
    const key = Object.values(resourcesOf(template, 'AWS::KMS::Key'))[0];
    const statements = statementsOf(key?.Properties?.KeyPolicy);
    const cloudwatch = statements.filter((s) => render(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
    const scope = {
      StringEquals: { 'aws:SourceAccount': '<AWS::AccountId>' },
      ArnLike: {
        'aws:SourceArn': `arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:${service}-*`,
      },
    };
    expect(resolved(cloudwatch[0]?.Condition)).toEqual(scope);
    const topicPolicy = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'))[0];
    const publish = statementsOf(topicPolicy?.Properties?.PolicyDocument).find((s) =>
      render(s.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(publish).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
    });
    expect(render(publish?.Resource)).toBe(ids.topic);
    expect(resolved(publish?.Condition)).toEqual(scope);
  });

  it('draws a dashboard of the state machine, every function and the per-table figures', () => {
    const dashboards = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties?.DashboardName).toBe(service);
    const body = render(dashboards[0]?.Properties?.DashboardBody);
    expect(body).toContain(ids.stateMachine);
    for (const fn of Object.values(ids.functions)) expect(body).toContain(fn);
    for (const metric of [
      'RowsExported',
      'RowsLoaded',
      'RawBytesExported',
      'CompressedBytesExported',
      'StepDuration',
      'WatermarkLag',
      'VerifiedWindows',
    ]) {
      expect(body, metric).toContain(`MetricName=\\"${metric}\\" service=\\"${service}\\"`);
    }
  });
});

function statementsOf(document: unknown): Record<string, unknown>[] {
  return (document as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? [];
}

/** `value` with every reference and join in it rendered as text (`<Id>`, `<Id.Attr>`). */
function resolved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolved);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && ['Ref', 'Fn::GetAtt', 'Fn::Join'].includes(keys[0]!)) return render(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v)]));
}

describe('the freshness alarms', () => {
  it('are not there while the schedule is disabled, which expects no window', () => {
    const { template } = tallyStack({});
    expect(alarmsOf(template).filter((a) => a.metric.name === 'VerifiedWindows')).toEqual([]);
    // Everything else is.
    expect(alarmsOf(template).filter((a) => a.metric.name === 'ExecutionsFailed')).toHaveLength(1);
  });

  it("count in the schedule's own interval, as many as freshnessIntervals says", () => {
    const template = pipelineTemplate({
      scheduleEnabled: true,
      schedule: events.Schedule.rate(Duration.hours(6)),
      freshnessIntervals: 4,
    });
    const freshness = alarmsOf(template).filter((a) => a.metric.name === 'VerifiedWindows');
    expect(freshness).toHaveLength(TEST_CONFIG.tables.length);
    for (const alarm of freshness) {
      expect(alarm).toMatchObject({
        metric: { period: 6 * 3600 },
        evaluationPeriods: 4,
        datapointsToAlarm: 4,
      });
    }
  });

  it('refuse more intervals than a CloudWatch alarm looks back over, and a cron schedule', () => {
    expect(() => pipelineTemplate({ scheduleEnabled: true, freshnessIntervals: 49 })).toThrow(
      InvalidConfigError,
    );
    expect(() => pipelineTemplate({ scheduleEnabled: true, freshnessIntervals: 49 })).toThrow(
      /freshnessIntervals is 49: 49 intervals of 30 minutes is longer than the 1 day/,
    );
    expect(() => pipelineTemplate({ scheduleEnabled: true, freshnessIntervals: 0 })).toThrow(
      'freshnessIntervals is 0: it must be a whole number, at least 1',
    );
    expect(() =>
      pipelineTemplate({ scheduleEnabled: true, schedule: events.Schedule.cron({ minute: '0', hour: '2' }) }),
    ).toThrow(/freshness alarms need a rate schedule/);
  });
});

describe('a configuration of 200 tables', () => {
  it('gets a freshness alarm each, stays within a template of 500 resources, and the same dashboard', () => {
    const tables = Array.from({ length: 200 }, (_, i) => ({
      schema: 'sales',
      name: `table_${i}`,
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    }));
    const wide = tallyStack({ config: { ...TEST_CONFIG, tables }, scheduleEnabled: true }).template;
    const narrow = tallyStack({ scheduleEnabled: true }).template;
    const freshness = alarmsOf(wide).filter((a) => a.metric.name === 'VerifiedWindows');
    expect(new Set(freshness.map((a) => a.metric.dimensions.Table)).size).toBe(200);
    // CloudFormation's limit on the resources of one template.
    expect(Object.keys(wide.toJSON().Resources).length).toBeLessThan(500);
    const body = (t: Template) =>
      render(Object.values(resourcesOf(t, 'AWS::CloudWatch::Dashboard'))[0]?.Properties?.DashboardBody);
    expect(body(wide)).toBe(body(narrow));
  });
});

describe('an alert topic given from elsewhere', () => {
  it('gets the alarms, and its key and policy are left as they are', () => {
    const template = pipelineTemplate({
      alertTopic: sns.Topic.fromTopicArn(
        new Stack(newApp(), 'Elsewhere'),
        'Topic',
        'arn:aws:sns:eu-west-1:123456789012:team-alerts',
      ),
    });
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThan(0);
    const publishing = alarms.filter((a) => a.actions.length > 0);
    expect(publishing.length).toBe(alarms.length - 3);
    for (const alarm of publishing)
      expect(alarm.actions).toEqual(['arn:aws:sns:eu-west-1:123456789012:team-alerts']);
    expect(resourcesOf(template, 'AWS::SNS::TopicPolicy')).toEqual({});
    const key = Object.values(resourcesOf(template, 'AWS::KMS::Key'))[0];
    expect(render(key?.Properties?.KeyPolicy)).not.toContain('cloudwatch.amazonaws.com');
  });
});
