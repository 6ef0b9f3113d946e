// The transfer's state machine in JSONPath (the local interpreter runs neither JSONata nor `Assign`):
// Plan, a Map over the tables with Retry and Catch on every step, then an SNS alert when any table failed.
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TRANSIENT_ERROR_NAMES } from '../lambdas/domain/errors';
import { CHUNK_STEP_PAYLOAD, STEP_PAYLOAD, TABLE_CHAIN } from '../lambdas/steps/contract';
import { type StateName, type StepName, stepOfState } from '../lambdas/steps/registry';

/**
 * Errors a Retry waits out: Tally's transient errors, and Lambda throttling (the invocation never ran).
 * A timeout or an out-of-memory end (`LAMBDA_END_ERROR_NAMES`: `Lambda.Unknown`, `Sandbox.Timedout`,
 * `Runtime.OutOfMemory`) is deliberately absent: the same input would end the same way again, up to 15
 * minutes each time. It goes to the Catch, which audits the failure and raises the alert; the fix is more
 * memory or a longer timeout.
 */
export const RETRYABLE_ERRORS: readonly string[] = [
  ...TRANSIENT_ERROR_NAMES,
  'Lambda.TooManyRequestsException',
];

/** The execution's error when it failed and its own alert was published. */
export const FAILED_ALERTED = 'TransferFailed';
/** The execution's error when it failed and its alert could not be published: alerted from outside. */
export const FAILED_UNALERTED = 'TransferFailedUnalerted';

/** The error a chunk's iteration ends with once its failure is recorded (which fails its Map). */
export const CHUNK_FAILED = 'ChunkFailed';

/** States the definition adds to the steps' (the registry's): they only route. */
export const ROUTING_STATE = {
  transferTables: 'TransferTables',
  splitIntoChunks: 'SplitIntoChunks',
  exportChunks: 'ExportChunks',
  loadChunks: 'LoadChunks',
  exportChunkAbandoned: 'ExportChunkAbandoned',
  loadChunkAbandoned: 'LoadChunkAbandoned',
  tableFailed: 'TableFailed',
  summarizeOutcomes: 'SummarizeOutcomes',
  anyTableFailed: 'AnyTableFailed',
  alertFallback: 'AlertFallback',
  publishAlert: 'PublishAlert',
  alertHasRunState: 'AlertHasRunState',
  failed: 'TransferFailed',
  failedUnalerted: 'TransferFailedUnalerted',
  succeeded: 'TransferSucceeded',
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
  /** The function of every step of the registry. */
  readonly functions: Readonly<Record<StepName, lambda.IFunction>>;
  readonly alertTopic: sns.ITopic;
  /**
   * Tables transferred at the same time.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * Chunks of one table's historical load exported at the same time (the Distributed Map's
   * MaxConcurrency; `pipeline.chunkConcurrency`).
   * @default 8
   */
  readonly chunkConcurrency?: number;
  /**
   * @default the defaults of `RetrySettings`
   */
  readonly retry?: RetrySettings;
  /**
   * The state machine's timeout, handed to every step: a table's lease lasts no longer than its execution.
   * @default none: leases last LEASE_TTL_MS
   */
  readonly executionTimeout?: Duration;
}

/** Builds the chain; the pipeline construct wraps it in a state machine. */
export class TransferDefinition extends Construct {
  readonly startState: sfn.IChainable;

  private readonly retry: Required<RetrySettings>;
  private readonly functions: Readonly<Record<StepName, lambda.IFunction>>;
  private readonly payloadLiterals: Record<string, number>;

  constructor(scope: Construct, id: string, props: TransferDefinitionProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 4;
    this.retry = {
      interval: props.retry?.interval ?? Duration.seconds(5),
      maxAttempts: props.retry?.maxAttempts ?? 4,
      maxDelay: props.retry?.maxDelay ?? Duration.minutes(2),
    };
    this.functions = props.functions;
    this.payloadLiterals =
      props.executionTimeout === undefined
        ? {}
        : { executionTimeoutSeconds: props.executionTimeout.toSeconds() };

    // Inside the Map: each step's result goes under its own key of the table's state. AuditFailure ends
    // the iteration with the table's outcome (failed, or skipped when another execution held it); should
    // it fail itself, the table counts as failed.
    const tableFailed = new sfn.Pass(this, ROUTING_STATE.tableFailed, {
      parameters: {
        table: sfn.JsonPath.stringAt('$.work.table'),
        status: 'failed',
        failure: {
          stage: 'AuditFailure',
          error: sfn.JsonPath.stringAt('$.error.Error'),
          message: sfn.JsonPath.format(
            'the table failed with {}, and its failure event could not be written ({}): the audit log may lack it',
            sfn.JsonPath.stringAt('$.error.Error'),
            sfn.JsonPath.stringAt('$.auditError.Error'),
          ),
        },
      },
    });
    const auditFailure = this.task('AuditFailure');
    auditFailure.addCatch(tableFailed, { errors: [sfn.Errors.ALL], resultPath: '$.auditError' });

    const onFailure = (task: tasks.LambdaInvoke): tasks.LambdaInvoke => {
      task.addCatch(auditFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return task;
    };

    // CountSource, then either the one export (ExportToS3) or, for a historical load it split into
    // chunks: a Distributed Map exporting each chunk in a child execution of its own (ExportChunk),
    // GatherChunks adding them up, PrepareCopy making the copy of the target once, a second Distributed
    // Map loading each chunk into the copy in an invocation of its own (LoadChunk), and LoadSnowflake
    // swapping the copy in; both go on to the rest of TABLE_CHAIN.
    const countSource = onFailure(this.task('CountSource'));
    const exportWhole = onFailure(this.task('ExportToS3'));
    const loadSnowflake = onFailure(this.task('LoadSnowflake'));
    const gatherChunks = onFailure(this.task('GatherChunks'));
    const prepareCopy = onFailure(this.task('PrepareCopy'));
    const exportChunks = this.chunksMap(ROUTING_STATE.exportChunks, props.chunkConcurrency, {
      task: 'ExportChunk',
      recorder: 'ExportChunkFailed',
      abandoned: ROUTING_STATE.exportChunkAbandoned,
    });
    const loadChunks = this.chunksMap(ROUTING_STATE.loadChunks, props.chunkConcurrency, {
      task: 'LoadChunk',
      recorder: 'LoadChunkFailed',
      abandoned: ROUTING_STATE.loadChunkAbandoned,
    });
    for (const map of [exportChunks, loadChunks]) {
      map.addCatch(auditFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    }
    const split = new sfn.Choice(this, ROUTING_STATE.splitIntoChunks)
      .when(
        sfn.Condition.isPresent('$.count.chunks'),
        exportChunks.next(gatherChunks).next(prepareCopy).next(loadChunks).next(loadSnowflake),
      )
      .otherwise(exportWhole.next(loadSnowflake));
    // After the load, the rest of the table chain in its order (VerifyCounts, VerifyValues, AuditSuccess).
    const afterLoad = TABLE_CHAIN.slice(TABLE_CHAIN.findIndex((link) => link.state === 'LoadSnowflake') + 1);
    afterLoad.reduce<tasks.LambdaInvoke>((previous, link) => {
      const task = onFailure(this.task(link.state));
      previous.next(task);
      return task;
    }, loadSnowflake);
    const tableChain = sfn.Chain.start(countSource).next(split);

    const transferTables = new sfn.Map(this, ROUTING_STATE.transferTables, {
      itemsPath: '$.tables',
      itemSelector: {
        work: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
        executionId: sfn.JsonPath.stringAt('$.executionId'),
      },
      maxConcurrency,
      resultPath: '$.outcomes',
    });
    transferTables.itemProcessor(tableChain, { mode: sfn.ProcessorMode.INLINE });

    // After the Map: the alert, once, for the whole execution, written for a person by ComposeAlert. The
    // execution then fails as TransferFailed, or as TransferFailedUnalerted when the alert could not be
    // published: the rule on the execution's status alerts on that one from outside (`ExecutionAlerts`).
    const failed = new sfn.Fail(this, ROUTING_STATE.failed, {
      error: FAILED_ALERTED,
      cause: 'Planning failed, a table failed, or its counts did not close; see the alert and the audit log.',
    });
    const failedUnalerted = new sfn.Fail(this, ROUTING_STATE.failedUnalerted, {
      error: FAILED_UNALERTED,
      cause: 'The run failed and its alert could not be published; see the audit log.',
    });
    const auditAlert = this.task('AuditAlert');
    auditAlert.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.auditError' });
    auditAlert.next(failed);

    const publishAlert = new tasks.SnsPublish(this, ROUTING_STATE.publishAlert, {
      topic: props.alertTopic,
      subject: sfn.JsonPath.stringAt('$.alertMessage.subject'),
      message: sfn.TaskInput.fromJsonPathAt('$.alertMessage.message'),
      messageAttributes: {
        executionId: { value: sfn.JsonPath.stringAt('$$.Execution.Id') },
      },
      resultPath: '$.alert',
    });
    // Should the alert's own step fail, a shorter alert still goes out: the execution, and where to look.
    const alertFallback = new sfn.Pass(this, ROUTING_STATE.alertFallback, {
      parameters: {
        subject: 'Tally: a run failed',
        message: sfn.JsonPath.format(
          'A Tally run failed, and its alert could not be written ({}). Execution: {}. Its audit events say which tables failed and why: tally audit --since {}',
          sfn.JsonPath.stringAt('$.composeError.Error'),
          sfn.JsonPath.stringAt('$$.Execution.Id'),
          sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        ),
      },
      resultPath: '$.alertMessage',
    });
    alertFallback.next(publishAlert);
    const composeAlert = this.task('ComposeAlert');
    composeAlert.addCatch(alertFallback, { errors: [sfn.Errors.ALL], resultPath: '$.composeError' });
    composeAlert.next(publishAlert);
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
    publishAlert.addCatch(failedUnalerted, { errors: [sfn.Errors.ALL], resultPath: '$.alertError' });
    publishAlert.next(alertHasRunState);

    const anyTableFailed = new sfn.Choice(this, ROUTING_STATE.anyTableFailed)
      .when(sfn.Condition.booleanEquals('$.summary.anyFailed', true), composeAlert)
      .otherwise(new sfn.Succeed(this, ROUTING_STATE.succeeded));
    // A Choice cannot look inside an array: this Pass turns "any outcome failed" into one boolean.
    const summarizeOutcomes = new sfn.Pass(this, ROUTING_STATE.summarizeOutcomes, {
      parameters: {
        anyFailed: sfn.JsonPath.arrayContains(sfn.JsonPath.listAt('$.outcomes[*].status'), 'failed'),
      },
      resultPath: '$.summary',
    });

    // On its last attempt Plan records a transient failure itself: no table's Catch exists yet.
    const plan = this.task('Plan', { maxAttempts: this.retry.maxAttempts });
    plan.addCatch(composeAlert, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.startState = sfn.Chain.start(plan).next(transferTables).next(summarizeOutcomes).next(anyTableFailed);
  }

  /**
   * A Distributed Map over a chunked load's chunks, read from the item file CountSource wrote (ten
   * thousand chunks fit; the state never carries the list), each iteration handed the table's state and
   * its chunk. A chunk that fails after its retries is recorded by `recorder` (which chunk, which error)
   * and ends its iteration failed, which fails the Map; the table's failure event reads the record.
   */
  private chunksMap(
    id: string,
    concurrency: number | undefined,
    states: { readonly task: StateName; readonly recorder: StateName; readonly abandoned: string },
  ): sfn.DistributedMap {
    const map = new sfn.DistributedMap(this, id, {
      itemReader: new sfn.S3JsonItemReader({
        bucketNamePath: sfn.JsonPath.stringAt('$.count.chunks.bucket'),
        key: sfn.JsonPath.stringAt('$.count.chunks.itemsKey'),
      }),
      itemSelector: {
        work: sfn.JsonPath.objectAt('$.work'),
        executionId: sfn.JsonPath.stringAt('$.executionId'),
        executionStartedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        count: sfn.JsonPath.objectAt('$.count'),
        // Absent while exporting (the state has no export yet); the load's chunks need GatherChunks' sum.
        ...(states.task === 'LoadChunk' ? { export: sfn.JsonPath.objectAt('$.export') } : {}),
        chunk: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      },
      maxConcurrency: concurrency ?? 8,
      // Each chunk leaves its manifest or load record in the stage; the state keeps none.
      resultPath: sfn.JsonPath.DISCARD,
    });
    const abandoned = new sfn.Fail(this, states.abandoned, {
      error: CHUNK_FAILED,
      cause: 'A chunk failed after its retries; the table failure event names it.',
    });
    const recorder = this.task(states.recorder, {}, CHUNK_STEP_PAYLOAD);
    recorder.addCatch(abandoned, { errors: [sfn.Errors.ALL], resultPath: '$.recordError' });
    recorder.next(abandoned);
    const task = this.task(states.task, {}, CHUNK_STEP_PAYLOAD);
    task.addCatch(recorder, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    map.itemProcessor(task);
    return map;
  }

  /**
   * The Lambda task of a state of the step registry, handed the contract's payload (execution id, state
   * name, attempt, state), its result put where the registry says, retried on transient errors with
   * exponential backoff and full jitter. The function is named directly (not through `lambda:invoke`),
   * so its result is the function's return value, the same in AWS and locally.
   */
  private task(
    name: StateName,
    /** Literals the step needs besides the contract's payload. */
    extra: Record<string, number> = {},
    payload: Record<string, string> = STEP_PAYLOAD,
  ): tasks.LambdaInvoke {
    const found = stepOfState(name);
    if (!found) throw new Error(`the step registry has no state '${name}'`);
    const { resultPath, mode } = found.state;
    const task = new tasks.LambdaInvoke(this, name, {
      lambdaFunction: this.functions[found.step],
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        ...(mode ? { mode } : {}),
        ...this.payloadLiterals,
        ...extra,
        ...payload,
      }),
      ...(resultPath === null ? { resultPath: sfn.JsonPath.DISCARD } : {}),
      ...(resultPath !== null && resultPath !== '$' ? { resultPath } : {}),
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
