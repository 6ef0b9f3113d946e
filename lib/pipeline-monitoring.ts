// The pipeline's alarms and dashboard, built with cdk-monitoring-constructs: the state machine's failed,
// timed-out, throttled and aborted executions; each step function's errors the state machine does not
// retry, throttles, duration near its timeout and memory near its limit; the schedule's failed
// invocations and its dead-letter queue; and per table, freshness: no verified window for N schedule
// intervals. Every alarm publishes to the alert topic.
import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  type CustomMetricWithAlarm,
  CustomMonitoring,
  DefaultDashboardFactory,
  MonitoringFacade,
  noopAction,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { InvalidConfigError } from '../lambdas/domain/errors';
import {
  METRIC_DIMENSIONS,
  METRICS,
  METRICS_NAMESPACE,
  METRICS_SERVICE_ENV,
} from '../lambdas/runtime/metric-names';
import { STEP_NAMES, STEPS } from '../lambdas/steps/registry';
import { acknowledgeDeadLetterQueue } from './nag-acknowledgements';
import type { PipelineFunctions } from './pipeline-functions';

/** The share of a function's timeout, and of its memory, past which its alarm fires. */
const NEAR_LIMIT_PERCENT = 80;
/** The period of the functions' alarms: cdk-monitoring-constructs' default for its own. */
const FUNCTION_PERIOD = Duration.minutes(5);

export interface PipelineMonitoringProps {
  readonly stateMachine: sfn.IStateMachine;
  /** The step functions, keyed like the step registry, whose timeouts and memory the alarms are held to. */
  readonly functions: PipelineFunctions;
  /** The rule that starts the incremental pipeline. */
  readonly schedule: events.IRule;
  /**
   * Where every alarm publishes. When the topic is encrypted with a key this stack owns, the key policy
   * and the topic policy let CloudWatch alarms of this pipeline use them.
   */
  readonly alertTopic: sns.ITopic;
  /** The configured tables, `schema.name`: one freshness alarm each. */
  readonly tables: readonly string[];
  /**
   * How often the schedule runs each table. Without it there are no freshness alarms: with the schedule
   * disabled no window is expected, and every table's alarm would only say so.
   * @default no freshness alarms
   */
  readonly freshnessInterval?: Duration;
  /**
   * How many schedule intervals in a row may pass without a verified window before a table's freshness
   * alarm fires.
   * @default 3
   */
  readonly freshnessIntervals?: number;
  /**
   * Names the alarms (a prefix), the dashboard, and the `service` dimension of the steps' metrics. Alarm
   * and dashboard names are unique per account and region.
   * @default the parent construct's path, e.g. `Tally-Pipeline-2E57BBC7`
   */
  readonly name?: string;
  /**
   * What happens to the dead-letter queue when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class PipelineMonitoring extends Construct {
  /** Holds the schedule's start requests that EventBridge could not deliver after its retries. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  readonly facade: MonitoringFacade;
  readonly dashboard: cloudwatch.Dashboard;
  /** The freshness alarm of each table, keyed by `schema.name`; empty without `freshnessInterval`. */
  readonly freshnessAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The prefix of every alarm's name, the dashboard's name and the metrics' `service` dimension. */
  readonly name: string;

  private readonly props: PipelineMonitoringProps;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? Names.uniqueResourceName(scope, { separator: '-', maxLength: 64 });
    const freshnessIntervals = props.freshnessIntervals ?? 3;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    acknowledgeDeadLetterQueue(this.scheduleDeadLetterQueue);

    // The functions put the same name in their metrics' `service` dimension, which the alarms below match.
    for (const fn of Object.values(props.functions))
      fn.function.addEnvironment(METRICS_SERVICE_ENV, this.name);
    this.allowAlarmsToPublish();

    this.facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: this.name,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alertTopic }),
        // One bad period is enough: a failed execution or a dead letter does not repeat to be real.
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      metricFactoryDefaults: { namespace: METRICS_NAMESPACE },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', { dashboardNamePrefix: this.name }),
    });
    this.monitorStateMachine();
    this.monitorFunctions();
    this.monitorSchedule();
    this.freshnessAlarms = props.freshnessInterval
      ? this.monitorFreshness(props.freshnessInterval, freshnessIntervals)
      : new Map();
    this.chartTables();
    const dashboard = this.facade.createdDashboard();
    if (!dashboard) throw new Error('the monitoring facade created no dashboard');
    this.dashboard = dashboard;
  }

  /**
   * A failed, timed-out or aborted execution is already alerted once, with its tables and errors, by the
   * definition or by the execution-status rules (`execution-alerts.ts`): those alarms show on the
   * dashboard and publish nothing, so no run pages twice. Throttled executions are alerted by no one
   * else, so that alarm publishes.
   */
  private monitorStateMachine(): void {
    const alertedElsewhere = { Critical: { maxErrorCount: 0, actionOverride: noopAction() } };
    this.facade.monitorStepFunction({
      stateMachine: this.props.stateMachine,
      alarmFriendlyName: 'StateMachine',
      humanReadableName: 'Tally state machine',
      addFailedExecutionCountAlarm: alertedElsewhere,
      addTimedOutExecutionCountAlarm: alertedElsewhere,
      addThrottledExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
      addAbortedExecutionCountAlarm: alertedElsewhere,
    });
  }

  /**
   * Errors, throttles and duration come from Lambda's own metrics. Memory does not, without Lambda
   * Insights: each function reports its peak resident memory as an embedded metric (`MaxMemoryUsed`,
   * see `step-metrics.ts`), compared here with the memory the registry gives it. That was chosen over a
   * metric filter on the REPORT line's "Max Memory Used": a filter's metric can carry no fixed dimension,
   * so each function would need a metric name of its own, and it stops matching without a word if the
   * functions' log format becomes JSON. What the filter would see and the metric cannot, an invocation
   * killed for its memory, already raises the function's error alarm.
   */
  private monitorFunctions(): void {
    const errorAlarms: CustomMetricWithAlarm[] = [];
    const memoryAlarms: CustomMetricWithAlarm[] = [];
    for (const step of STEP_NAMES) {
      const spec = STEPS[step];
      const fn = this.props.functions[step].function;
      this.facade.monitorLambdaFunction({
        lambdaFunction: fn,
        alarmFriendlyName: spec.functionName,
        humanReadableName: `${spec.functionName} function`,
        // Invoked by the state machine, not by an event source: no iterator age to chart.
        isIterator: false,
        addThrottlesCountAlarm: { Critical: { maxErrorCount: 0 } },
        addMaxLatencyAlarm: { Critical: { maxLatencyPercentageOfTimeout: NEAR_LIMIT_PERCENT } },
      });
      const own = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName,
          dimensionsMap: { service: this.name, [METRIC_DIMENSIONS.functionName]: fn.functionName },
          statistic,
          period: FUNCTION_PERIOD,
          label: spec.functionName,
        });
      // Lambda's Errors less the transient errors the function reported: a table held by another
      // execution, or Snowflake throttling, is retried by the state machine and on its last attempt
      // alerted as the table's failure; alarming on each retry would page for what heals itself.
      errorAlarms.push({
        metric: new cloudwatch.MathExpression({
          // Ids of their own: the functions' expressions share one graph.
          expression: `errors_${step} - FILL(transient_${step}, 0)`,
          usingMetrics: {
            [`errors_${step}`]: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: FUNCTION_PERIOD }),
            [`transient_${step}`]: own(METRICS.transientErrors, cloudwatch.Stats.SUM),
          },
          label: spec.functionName,
          period: FUNCTION_PERIOD,
        }),
        alarmFriendlyName: spec.functionName,
        addAlarm: {
          Critical: {
            threshold: 0,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
            alarmDescriptionOverride: `${spec.functionName} ended with an error the state machine does not retry (a terminal or unnamed error, a timeout, running out of memory, a failed start): read the function's log for it.`,
          },
        },
      });
      const peak = own(METRICS.maxMemoryUsed, cloudwatch.Stats.MAXIMUM);
      memoryAlarms.push({
        metric: peak,
        alarmFriendlyName: spec.functionName,
        addAlarm: {
          Critical: {
            threshold: (spec.memoryMb * NEAR_LIMIT_PERCENT) / 100,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
            alarmDescriptionOverride: `${spec.functionName} used more than ${NEAR_LIMIT_PERCENT}% of its ${spec.memoryMb} MB: give it more memory in the step registry before it runs out.`,
          },
        },
      });
    }
    this.facade.monitorCustom({
      alarmFriendlyName: 'Errors',
      humanReadableName: 'Errors of the step functions the state machine does not retry',
      metricGroups: [{ title: 'Errors not retried', metrics: errorAlarms }],
    });
    this.facade.monitorCustom({
      alarmFriendlyName: 'Memory',
      humanReadableName: 'Peak memory of the step functions (MB)',
      metricGroups: [{ title: 'Peak memory (MB)', metrics: memoryAlarms }],
    });
  }

  private monitorSchedule(): void {
    const failed = new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'FailedInvocations',
      dimensionsMap: { RuleName: this.props.schedule.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      label: 'Failed invocations',
    });
    this.facade.monitorCustom({
      alarmFriendlyName: 'Schedule',
      humanReadableName: 'Schedule: runs EventBridge could not start',
      metricGroups: [
        {
          title: 'Failed invocations',
          metrics: [
            {
              metric: failed,
              alarmFriendlyName: 'FailedInvocations',
              addAlarm: {
                Critical: {
                  threshold: 0,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                  alarmDescriptionOverride:
                    'EventBridge could not start the incremental pipeline after its retries; the request is in the schedule dead-letter queue.',
                },
              },
            },
          ],
        },
      ],
    });
    this.facade.monitorSqsQueue({
      queue: this.scheduleDeadLetterQueue,
      alarmFriendlyName: 'ScheduleDeadLetters',
      humanReadableName: 'Schedule dead-letter queue',
      addQueueMaxSizeAlarm: {
        Critical: {
          maxMessageCount: 0,
          alarmDescriptionOverride:
            'A scheduled start of the incremental pipeline was not delivered: read the message for the error, fix it, and start a run by hand.',
        },
      },
    });
  }

  /**
   * One alarm per table on the verified windows AuditSuccess counts: fewer than one in each of
   * `intervals` schedule intervals in a row, a missing value counting as none.
   */
  private monitorFreshness(interval: Duration, intervals: number): Map<string, cloudwatch.Alarm> {
    checkFreshnessRange(interval, intervals);
    const alarms = new Map<string, cloudwatch.Alarm>();
    const span = interval.toMinutes() * intervals;
    const metrics = this.props.tables.map((table) => ({
      table,
      metric: {
        metric: this.tableMetric(METRICS.verifiedWindows, table, cloudwatch.Stats.SUM, interval),
        // Configured identifiers are letters, digits, _ and $: an alarm name takes them as they are.
        alarmFriendlyName: table,
        addAlarm: {
          Stale: {
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treatMissingDataOverride: cloudwatch.TreatMissingData.BREACHING,
            evaluationPeriods: intervals,
            datapointsToAlarm: intervals,
            alarmDescriptionOverride: `No verified window for ${table} in ${span} minutes (${intervals} schedule intervals): read the audit log for its last failure or skip.`,
          },
        },
      },
    }));
    const freshness = new CustomMonitoring(this.facade, {
      alarmFriendlyName: 'Freshness',
      humanReadableName: 'Freshness: verified windows per table',
      metricGroups: [{ title: 'Verified windows', metrics: metrics.map((m) => m.metric) }],
    });
    // Charted under Tables as one search instead: a graph of one line per table grows with them.
    this.facade.addSegment(freshness, { addToDetailDashboard: false });
    // One alarm per metric, created in the metrics' order.
    freshness.createdAlarms().forEach((created, i) => {
      const table = metrics[i]?.table;
      if (table !== undefined && created.alarm instanceof cloudwatch.Alarm) alarms.set(table, created.alarm);
    });
    return alarms;
  }

  /** Every table's figures, one line per table (a search, so the dashboard does not grow with the tables). */
  private chartTables(): void {
    this.facade.addLargeHeader('Tables');
    const chart = (
      title: string,
      metricName: string,
      statistic: string,
      unit: string,
      extraKeys: string[] = [],
    ) =>
      new cloudwatch.GraphWidget({
        title,
        width: 12,
        height: 6,
        left: [this.tableSearch(metricName, statistic, extraKeys)],
        leftYAxis: { label: unit, showUnits: false, min: 0 },
      });
    const step = [METRIC_DIMENSIONS.step];
    this.facade.addWidget(chart('Rows exported', METRICS.rowsExported, 'Sum', 'rows'));
    this.facade.addWidget(chart('Rows loaded', METRICS.rowsLoaded, 'Sum', 'rows'));
    this.facade.addWidget(chart('Bytes staged (compressed)', METRICS.compressedBytes, 'Sum', 'bytes'));
    this.facade.addWidget(chart('Bytes exported (raw CSV)', METRICS.rawBytes, 'Sum', 'bytes'));
    this.facade.addWidget(
      chart('Step duration, per table and step', METRICS.stepDuration, 'Maximum', 'ms', step),
    );
    this.facade.addWidget(chart('Watermark lag', METRICS.watermarkLag, 'Maximum', 'seconds'));
    this.facade.addWidget(chart('Verified windows', METRICS.verifiedWindows, 'Sum', 'windows'));
  }

  private tableMetric(name: string, table: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: {
        service: this.name,
        // The schedule runs the incremental pipeline: freshness is about its windows.
        [METRIC_DIMENSIONS.pipeline]: 'incremental',
        [METRIC_DIMENSIONS.table]: table,
      },
      statistic,
      period,
      label: table,
    });
  }

  private tableSearch(
    name: string,
    statistic: string,
    extraKeys: readonly string[],
  ): cloudwatch.MathExpression {
    const keys = ['service', METRIC_DIMENSIONS.pipeline, METRIC_DIMENSIONS.table, ...extraKeys];
    const schema = [METRICS_NAMESPACE, ...keys].map((k) => `"${k}"`).join(',');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${name}" service="${this.name}"', '${statistic}', 300)`,
      usingMetrics: {},
      label: '',
      period: Duration.minutes(5),
    });
  }

  /**
   * CloudWatch alarms publish to the alert topic as the CloudWatch service, which needs the topic's
   * permission and, for a topic encrypted with a customer-managed key, kms:Decrypt and
   * kms:GenerateDataKey* on that key (Amazon SNS Developer Guide, "Enable compatibility between event
   * sources from AWS services and encrypted topics",
   * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
   * Both are held to alarms of this account whose names carry this pipeline's prefix (aws:SourceAccount,
   * aws:SourceArn), as that page advises against the confused deputy. A topic or key imported from
   * elsewhere keeps its own policies: CDK cannot change them, and the add is a no-op.
   */
  private allowAlarmsToPublish(): void {
    const stack = Stack.of(this);
    const topic = this.props.alertTopic;
    const cloudwatchService = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const conditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${this.name}-*`,
      },
    };
    topic.masterKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToAlertTopic',
        principals: [cloudwatchService],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      }),
    );
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudwatchService],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions,
      }),
    );
  }
}

/**
 * How often a schedule runs, for the freshness alarms: a `rate(...)` schedule's rate. A cron schedule has
 * no one interval, so an enabled one is refused, naming the fix.
 */
export function scheduleInterval(schedule: events.Schedule): Duration {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.expressionString);
  if (!match) {
    throw new InvalidConfigError(
      `the schedule is '${schedule.expressionString}': freshness alarms need a rate schedule (events.Schedule.rate), whose interval they count in`,
    );
  }
  const amount = Number(match[1]);
  const unit = match[2] ?? 'minutes';
  if (unit.startsWith('minute')) return Duration.minutes(amount);
  if (unit.startsWith('hour')) return Duration.hours(amount);
  return Duration.days(amount);
}

/**
 * CloudWatch evaluates an alarm over at most one day when its period is under an hour, and seven days
 * otherwise (PutMetricAlarm, Period and EvaluationPeriods), so N intervals must fit in that.
 */
function checkFreshnessRange(interval: Duration, intervals: number): void {
  if (!Number.isInteger(intervals) || intervals < 1) {
    throw new InvalidConfigError(`freshnessIntervals is ${intervals}: it must be a whole number, at least 1`);
  }
  const seconds = interval.toSeconds() * intervals;
  const limit = interval.toSeconds() < 3600 ? 86_400 : 604_800;
  if (seconds > limit) {
    throw new InvalidConfigError(
      `freshnessIntervals is ${intervals}: ${intervals} intervals of ${interval.toHumanString()} is longer than the ${limit / 86_400} day(s) a CloudWatch alarm can look back over`,
    );
  }
}
