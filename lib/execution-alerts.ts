// Alerts from outside the definition, on the execution's own status: a timeout or an abort has no Catch,
// and a failure the definition could not alert on (its alert not published, `States.DataLimitExceeded`,
// `States.Runtime`) ends the execution without one. EventBridge sees every status change of a Standard
// workflow (Step Functions Developer Guide, "EventBridge for Step Functions execution status changes"),
// and these rules publish those endings to the alert topic in a few lines a person can act on.
import { Aws, CfnMapping } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CONSOLE_HOSTS } from '../lambdas/domain/alert';
import { FAILED_ALERTED } from './transfer-definition';

export interface ExecutionAlertsProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly topic: sns.ITopic;
  /**
   * The key the topic is encrypted with: EventBridge is let to use it to publish.
   * @default none, for a topic without a customer-managed key
   */
  readonly topicKey?: kms.IKey;
}

export class ExecutionAlerts extends Construct {
  /** Timed out or aborted: no state of the definition ran to alert. */
  readonly ended: events.Rule;
  /** Failed with any error but the one the definition ends with once it has published its alert. */
  readonly failedUnalerted: events.Rule;

  constructor(scope: Construct, id: string, props: ExecutionAlertsProps) {
    super(scope, id);
    const { stateMachine, topic } = props;
    const source = {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
    };
    const target = new targets.SnsTopic(topic, { message: this.message() });
    this.ended = new events.Rule(this, 'Ended', {
      description: 'Tally: alert when an execution times out or is aborted',
      eventPattern: {
        ...source,
        detail: { stateMachineArn: [stateMachine.stateMachineArn], status: ['TIMED_OUT', 'ABORTED'] },
      },
      targets: [target],
    });
    // A failure ending in TransferFailed was alerted by the definition itself; any other was not.
    this.failedUnalerted = new events.Rule(this, 'FailedUnalerted', {
      description: 'Tally: alert when an execution fails without having published its alert',
      eventPattern: {
        ...source,
        detail: {
          stateMachineArn: [stateMachine.stateMachineArn],
          status: ['FAILED'],
          // An execution that failed before any error was recorded has none: alerted too.
          error: events.Match.anyOf(events.Match.anythingBut(FAILED_ALERTED), events.Match.doesNotExist()),
        },
      },
      targets: [target],
    });
    // Publishing to a topic encrypted with a customer-managed key needs the key as well as the topic's
    // policy (which the target adds): AWS re:Post, "Why isn't my Amazon SNS topic receiving Amazon
    // EventBridge notifications?", whose statement has no condition. Scoping it to the topic through the
    // encryption context would make the key refer to the topic that refers to the key: a cycle.
    props.topicKey?.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgePublishesAlerts',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
  }

  /** The alert's text, from the event's fields: what ended, how, and where to look. */
  private message(): events.RuleTargetInput {
    const consoleHost = new CfnMapping(this, 'ConsoleHost', {
      mapping: Object.fromEntries(
        Object.entries(CONSOLE_HOSTS).map(([partition, host]) => [partition, { host }]),
      ),
    }).findInMap(Aws.PARTITION, 'host');
    const region = events.EventField.fromPath('$.region');
    const arn = events.EventField.fromPath('$.detail.executionArn');
    return events.RuleTargetInput.fromText(
      [
        `Tally: execution ${events.EventField.fromPath('$.detail.name')} ended ${events.EventField.fromPath('$.detail.status')} (${events.EventField.fromPath('$.detail.error')}), and no alert was published from inside it.`,
        `Tables it had not finished keep their watermarks: the next run takes up the same rows again.`,
        `Execution: ${arn}`,
        `Console: https://${region}.${consoleHost}/states/home?region=${region}#/v2/executions/details/${arn}`,
        "The console shows the state it stopped in; each table's audit events (tally audit --table) say what it had done.",
      ].join(' '),
    );
  }
}
