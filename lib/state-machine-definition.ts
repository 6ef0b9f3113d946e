// The transfer's state machine in JSONPath (the local interpreter runs neither JSONata nor `Assign`):
// Plan, a Map over the tables with Retry and Catch on every step, then an SNS alert when any table failed.
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TRANSIENT_ERROR_NAMES } from '../lambdas/domain/errors';
import { type AuditMode, STATE, STEP_PAYLOAD } from '../lambdas/steps/contract';

/**
 * Errors a Retry waits out: Tally's transient errors, and Lambda throttling (the invocation never ran).
 * `Lambda.Unknown` is deliberately absent: it is how a timeout or an out-of-memory end arrives, and the
 * same input would time out or run out of memory again, up to 15 minutes each time. It goes to the Catch,
 * which audits the failure and raises the alert; the fix is more memory, a longer timeout or smaller chunks.
 */
export const RETRYABLE_ERRORS: readonly string[] = [
  ...TRANSIENT_ERROR_NAMES,
  'Lambda.TooManyRequestsException',
];

/** States the definition adds to those the steps know (`STATE`): they only route. */
export const ROUTING_STATE = {
  summarizeOutcomes: 'SummarizeOutcomes',
  alertHasRunState: 'AlertHasRunState',
} as const;

export interface RetrySettings {
  /**
   * Wait before the first retry.
   * @default Duration.seconds(5)
   */
  readonly interval?: Duration;
  /**
   * Retries after the first attempt.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Longest wait between two attempts.
   * @default Duration.minutes(2)
   */
  readonly maxDelay?: Duration;
}

export interface TransferDefinitionProps {
  readonly functions: {
    readonly plan: lambda.IFunction;
    readonly countSource: lambda.IFunction;
    readonly exportToS3: lambda.IFunction;
    readonly loadSnowflake: lambda.IFunction;
    readonly verifyCounts: lambda.IFunction;
    readonly writeAudit: lambda.IFunction;
  };
  readonly alertTopic: sns.ITopic;
  /**
   * Tables transferred at the same time.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * @default the defaults of `RetrySettings`
   */
  readonly retry?: RetrySettings;
}

/** Builds the chain; the pipeline construct wraps it in a state machine. */
export class TransferDefinition extends Construct {
  readonly startState: sfn.IChainable;

  private readonly retry: Required<RetrySettings>;

  constructor(scope: Construct, id: string, props: TransferDefinitionProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 4;
    this.retry = {
      interval: props.retry?.interval ?? Duration.seconds(5),
      maxAttempts: props.retry?.maxAttempts ?? 4,
      maxDelay: props.retry?.maxDelay ?? Duration.minutes(2),
    };
    const fn = props.functions;

    // Inside the Map: each step's result goes under its own key of the table's state.
    const tableFailed = new sfn.Pass(this, STATE.tableFailed, {
      parameters: { table: sfn.JsonPath.stringAt('$.work.table'), status: 'failed' },
    });
    // The failure audit keeps the table's state (its result is not needed), so TableFailed reads the
    // table's name the same way whether the audit was written or could not be.
    const auditFailure = this.invoke(STATE.auditFailure, fn.writeAudit, sfn.JsonPath.DISCARD, 'failure');
    auditFailure.addCatch(tableFailed, { errors: [sfn.Errors.ALL], resultPath: '$.auditError' });
    auditFailure.next(tableFailed);

    const onFailure = (task: tasks.LambdaInvoke): tasks.LambdaInvoke => {
      task.addCatch(auditFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return task;
    };

    // AuditSuccess returns the table's outcome, which replaces the table's state.
    const auditSuccess = onFailure(this.invoke(STATE.auditSuccess, fn.writeAudit, undefined, 'success'));
    const tableChain = sfn.Chain.start(onFailure(this.invoke(STATE.countSource, fn.countSource, '$.count')))
      .next(onFailure(this.invoke(STATE.exportToS3, fn.exportToS3, '$.export')))
      .next(onFailure(this.invoke(STATE.loadSnowflake, fn.loadSnowflake, '$.load')))
      .next(onFailure(this.invoke(STATE.verifyCounts, fn.verifyCounts, '$.verify')))
      .next(auditSuccess);

    const transferTables = new sfn.Map(this, STATE.transferTables, {
      itemsPath: '$.tables',
      itemSelector: {
        work: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
        executionId: sfn.JsonPath.stringAt('$.executionId'),
      },
      maxConcurrency,
      resultPath: '$.outcomes',
    });
    transferTables.itemProcessor(tableChain, { mode: sfn.ProcessorMode.INLINE });

    // After the Map: the alert, once, for the whole execution.
    const failed = new sfn.Fail(this, STATE.failed, {
      error: 'TransferFailed',
      cause: 'Planning failed, a table failed, or its counts did not close; see the alert and the audit log.',
    });
    const auditAlert = this.invoke(STATE.auditAlert, fn.writeAudit, '$.audit', 'alert');
    auditAlert.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.auditError' });
    auditAlert.next(failed);

    const publishAlert = new tasks.SnsPublish(this, STATE.publishAlert, {
      topic: props.alertTopic,
      subject: 'Tally transfer failed',
      message: sfn.TaskInput.fromJsonPathAt(sfn.JsonPath.jsonToString(sfn.JsonPath.entirePayload)),
      messageAttributes: {
        executionId: { value: sfn.JsonPath.stringAt('$$.Execution.Id') },
      },
      resultPath: '$.alert',
    });
    publishAlert.addRetry({
      errors: [sfn.Errors.TASKS_FAILED],
      interval: this.retry.interval,
      maxAttempts: this.retry.maxAttempts,
      maxDelay: this.retry.maxDelay,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    // Plan's own failure has no run state for the alert audit; Plan records that failure itself.
    const alertHasRunState = new sfn.Choice(this, ROUTING_STATE.alertHasRunState)
      .when(sfn.Condition.isPresent('$.outcomes'), auditAlert)
      .otherwise(failed);
    publishAlert.addCatch(alertHasRunState, { errors: [sfn.Errors.ALL], resultPath: '$.alertError' });
    publishAlert.next(alertHasRunState);

    const anyTableFailed = new sfn.Choice(this, STATE.anyTableFailed)
      .when(sfn.Condition.booleanEquals('$.summary.anyFailed', true), publishAlert)
      .otherwise(new sfn.Succeed(this, STATE.succeeded));
    // A Choice cannot look inside an array: this Pass turns "any outcome failed" into one boolean.
    const summarizeOutcomes = new sfn.Pass(this, ROUTING_STATE.summarizeOutcomes, {
      parameters: {
        anyFailed: sfn.JsonPath.arrayContains(sfn.JsonPath.listAt('$.outcomes[*].status'), 'failed'),
      },
      resultPath: '$.summary',
    });

    const plan = this.invoke(STATE.plan, fn.plan, undefined, undefined, {
      maxAttempts: this.retry.maxAttempts,
    });
    plan.addCatch(publishAlert, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.startState = sfn.Chain.start(plan).next(transferTables).next(summarizeOutcomes).next(anyTableFailed);
  }

  /**
   * A Lambda task handed the contract's payload (execution id, attempt, state), retried on transient
   * errors with exponential backoff and full jitter. The function is named directly (not through
   * `lambda:invoke`), so its result is the function's return value, the same in AWS and locally.
   */
  private invoke(
    name: string,
    fn: lambda.IFunction,
    /** Where the result goes; by default it replaces the state. */
    resultPath?: string,
    mode?: AuditMode,
    /** Literals the step needs besides the contract's payload. */
    extra: Record<string, number> = {},
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, name, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({ ...(mode ? { mode } : {}), ...extra, ...STEP_PAYLOAD }),
      ...(resultPath !== undefined ? { resultPath } : {}),
    });
    task.addRetry({
      errors: [...RETRYABLE_ERRORS],
      interval: this.retry.interval,
      maxAttempts: this.retry.maxAttempts,
      maxDelay: this.retry.maxDelay,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}
