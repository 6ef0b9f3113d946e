// The reusable construct: everything an audited PostgreSQL -> S3 -> Snowflake transfer needs in AWS (the
// key, the staging bucket, the alert topic, one Lambda per step of the registry, the state machine and its
// schedule). Each part is a construct or a function of its own; this one wires them together.
import { Aws, Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type PipelineConfig, pipelineSchema } from '../lambdas/config';
import { InvalidConfigError } from '../lambdas/domain/errors';
import { qualifiedName } from '../lambdas/domain/table';
import { CONFIG_FILE_NAME, ENV } from '../lambdas/runtime/env';
import { mapSteps, type StepName } from '../lambdas/steps/registry';
import { AuditVerification } from './audit-verification';
import type { AuditedTransferPipelineProps } from './audited-transfer-pipeline-props';
import { ExecutionAlerts } from './execution-alerts';
import { acknowledgeStateMachineRole, allowLogsToUse } from './nag-acknowledgements';
import { createPipelineFunctions, type PipelineFunctions } from './pipeline-functions';
import { PipelineMonitoring, scheduleInterval } from './pipeline-monitoring';
import { prefixPath } from './prefix-grants';
import { secretNamed } from './secret-reference';
import { StagingBucket } from './staging-bucket';
import type { StepLambdaProps } from './step-lambda';
import { TransferDefinition } from './transfer-definition';

/** The steps that send OpenLineage events (`lambdas/lineage/emit.ts`). */
const LINEAGE_STEPS: readonly StepName[] = ['plan', 'writeAudit'];

export type {
  AuditedTransferPipelineProps,
  PostgresEndpoint,
  SnowflakeTarget,
} from './audited-transfer-pipeline-props';
export type { PipelineFunctions } from './pipeline-functions';

/**
 * The state machine's log group, under `/aws/vendedlogs/`: CloudWatch Logs then needs no resource policy
 * entry per log group, whose 5,120 characters a busy account fills (Step Functions Developer Guide,
 * "Avoiding CloudWatch Logs resource policy size restrictions"). The stack's id makes the name unique to
 * this deployment, so a log group retained from a deleted stack does not block the next one.
 */
function vendedLogGroupName(scope: Construct): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return Fn.join('', ['/aws/vendedlogs/states/', Names.uniqueId(scope), '-', stackUuid]);
}

/** The settings every function of the pipeline shares, set once by the construct. */
type FunctionDefaults = Omit<StepLambdaProps, 'step' | 'description' | 'memorySize' | 'timeout' | 'entry'>;

/** Lambda allows 4 KB of environment per function; what rides there must fit in what is left. */
const MAX_CONFIG_ENV_BYTES = 3_500;

/**
 * The parts of the configuration that grow with the deployment (the tables above all) go into each
 * function's bundle as a file, where 200 tables fit as easily as 2; the parts that name the deployed
 * resources (the bucket, the region, the key: tokens until deploy) stay in the environment.
 */
const BUNDLED_CONFIG_KEYS = ['tables', 'snowflake', 'pipeline'] as const;

export class AuditedTransferPipeline extends Construct {
  readonly bucket: s3.IBucket;
  readonly alertTopic: sns.ITopic;
  /** Encrypts the topic and the log groups (and a new bucket with `BucketEncryption.KMS`). */
  readonly key: kms.Key;
  /** The step Lambdas, keyed like the step registry. */
  readonly functions: PipelineFunctions;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
  /** The alarms, the dashboard and the schedule's dead-letter queue. */
  readonly monitoring: PipelineMonitoring;
  /** The rules that alert on an execution's timeout, abort or unalerted failure. */
  readonly executionAlerts: ExecutionAlerts;
  /** The scheduled verification of the audit log, unless `auditVerification` is false. */
  readonly auditVerification?: AuditVerification;
  /** The audit checkpoints' HMAC key (`auditCheckpointSecret`, or the one created). */
  readonly checkpointSecret: secretsmanager.ISecret;
  /** The functions' security group, when they run in a VPC. */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** Staged files live under this prefix; a lifecycle rule expires them. */
  readonly stagingPrefix: string;
  /** The audit mirror lives under this prefix. */
  readonly auditPrefix: string;

  constructor(scope: Construct, id: string, props: AuditedTransferPipelineProps) {
    super(scope, id);
    // Access logs delivered under a bucket policy rather than an ACL, so both buckets can disable ACLs.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const schedule = props.schedule ?? events.Schedule.rate(Duration.minutes(30));
    const pipeline = pipelineSchema.parse(props.pipeline ?? {});
    const bucketEncryption = props.bucketEncryption ?? s3.BucketEncryption.S3_MANAGED;
    const s3Prefix = props.s3Prefix ?? 'tally';
    const stagedFileRetention = props.stagedFileRetention ?? Duration.days(14);
    const auditMirrorRetention = props.auditMirrorRetention ?? Duration.days(2557);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const timeout = props.timeout ?? Duration.hours(2);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.stagingPrefix = `${s3Prefix}/staging/`;
    this.auditPrefix = `${s3Prefix}/audit/`;
    if (props.tables.length === 0) throw new InvalidConfigError('tables: list at least one table');
    if (props.auditObjectLockMode !== undefined && props.bucket !== undefined) {
      throw new InvalidConfigError(
        'auditObjectLockMode applies to a bucket the construct creates; enable Object Lock on the given bucket itself',
      );
    }
    if (props.auditObjectLockRetention !== undefined && props.auditObjectLockMode === undefined) {
      throw new InvalidConfigError(
        'auditObjectLockRetention needs auditObjectLockMode (GOVERNANCE or COMPLIANCE)',
      );
    }

    this.key = new kms.Key(this, 'Key', {
      description: 'Tally: alert topic and logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    allowLogsToUse(this.key);

    this.bucket =
      props.bucket ??
      new StagingBucket(this, 'Bucket', {
        encryption: bucketEncryption,
        encryptionKey: this.key,
        stagingPrefix: this.stagingPrefix,
        auditPrefix: this.auditPrefix,
        stagedFileRetention,
        auditMirrorRetention,
        removalPolicy,
        objectLock: props.auditObjectLockMode !== undefined,
      });

    this.alertTopic =
      props.alertTopic ??
      new sns.Topic(this, 'AlertTopic', {
        displayName: 'Tally alerts',
        masterKey: this.key,
        enforceSSL: true,
      });
    for (const email of props.alertEmails ?? []) {
      this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    if (props.vpc) {
      this.securityGroup =
        props.securityGroup ??
        new ec2.SecurityGroup(this, 'SecurityGroup', {
          vpc: props.vpc,
          description: 'Tally functions: reach PostgreSQL, Snowflake and S3',
          allowAllOutbound: true,
        });
    }

    const { environment, bundled } = this.splitConfig(
      this.runtimeConfig(
        props,
        pipeline,
        s3Prefix,
        bucketEncryption,
        props.auditObjectLockRetention ?? auditMirrorRetention,
      ),
    );
    // What every function of the pipeline shares: its logs, its configuration, its network.
    const functionDefaults: FunctionDefaults = {
      logRetention,
      logEncryptionKey: this.key,
      removalPolicy,
      environment: {
        [ENV.config]: Stack.of(this).toJsonString(environment),
        ...(bundled !== undefined ? { [ENV.configFile]: CONFIG_FILE_NAME } : {}),
      },
      ...(bundled !== undefined ? { bundledFiles: { [CONFIG_FILE_NAME]: JSON.stringify(bundled) } } : {}),
      ...(props.vpc ? { vpc: props.vpc } : {}),
      ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
      ...(this.securityGroup ? { securityGroups: [this.securityGroup] } : {}),
    };
    this.checkpointSecret = props.auditCheckpointSecret ?? this.newCheckpointSecret();
    const secrets = {
      postgres: props.postgresSecret,
      snowflake: props.snowflakeSecret,
      checkpoint: this.checkpointSecret,
    };
    const secretsKey = props.secretsEncryptionKey ? { secretsKey: props.secretsEncryptionKey } : {};
    this.functions = createPipelineFunctions(this, {
      ...functionDefaults,
      bucket: this.bucket,
      s3Prefix,
      secrets,
      ...secretsKey,
      objectLock: props.auditObjectLockMode !== undefined,
    });

    this.grantLineageKey(props);
    const definition = new TransferDefinition(this, 'Definition', {
      functions: mapSteps((step) => this.functions[step].function),
      alertTopic: this.alertTopic,
      executionTimeout: timeout,
      chunkConcurrency: pipeline.chunkConcurrency,
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
      ...(props.retry ? { retry: props.retry } : {}),
    });

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: vendedLogGroupName(this),
      retention: logRetention,
      encryptionKey: this.key,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition.startState),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout,
      tracingEnabled: true,
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The chunks' Distributed Maps (export, then load) read their item file, which CountSource writes
    // under the plans prefix; CDK grants the maps' own states:StartExecution, DescribeExecution and
    // StopExecution on this state machine, and, for an item file named by a path, nothing on S3: this
    // is the read they need.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${prefixPath(s3Prefix, 'plans')}*`)],
      }),
    );
    if (this.bucket.encryptionKey) {
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [this.bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    // The SNS task grants sns:Publish; publishing to an encrypted topic needs the key as well.
    this.alertTopic.grantPublish(this.stateMachine);
    // The endings no state of the definition can alert on: timed out, aborted, failed unalerted.
    this.executionAlerts = new ExecutionAlerts(this, 'ExecutionAlerts', {
      stateMachine: this.stateMachine,
      topic: this.alertTopic,
      ...(props.alertTopic === undefined ? { topicKey: this.key } : {}),
    });
    acknowledgeStateMachineRole(this.stateMachine, Object.values(this.functions), {
      bucket: this.bucket,
      prefix: prefixPath(s3Prefix, 'plans'),
    });

    const scheduleEnabled = props.scheduleEnabled ?? false;
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Tally: start the incremental pipeline',
      schedule,
      enabled: scheduleEnabled,
    });
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      stateMachine: this.stateMachine,
      functions: this.functions,
      schedule: this.schedule,
      alertTopic: this.alertTopic,
      tables: props.tables.map(qualifiedName),
      // A disabled schedule expects no window: no table is late.
      ...(scheduleEnabled ? { freshnessInterval: scheduleInterval(schedule) } : {}),
      ...(props.freshnessIntervals !== undefined ? { freshnessIntervals: props.freshnessIntervals } : {}),
      removalPolicy,
    });
    this.schedule.addTarget(
      new targets.SfnStateMachine(this.stateMachine, {
        input: events.RuleTargetInput.fromObject({ pipeline: 'incremental' }),
        // A missed run is not lost: the next one starts from the last verified watermark.
        retryAttempts: 2,
        deadLetterQueue: this.monitoring.scheduleDeadLetterQueue,
      }),
    );
    if (props.auditVerification ?? true) {
      this.auditVerification = new AuditVerification(this, 'AuditVerification', {
        ...functionDefaults,
        bucket: this.bucket,
        auditPrefix: this.auditPrefix,
        alertTopic: this.alertTopic,
        snowflakeSecret: secrets.snowflake,
        checkpointSecret: secrets.checkpoint,
        ...secretsKey,
        ...(props.auditVerificationSchedule ? { schedule: props.auditVerificationSchedule } : {}),
        scheduleEnabled: props.auditVerificationScheduleEnabled ?? scheduleEnabled,
        // Under the monitoring's prefix, which the alert topic's policy lets CloudWatch alarms publish with.
        alarmName: `${this.monitoring.name}-AuditVerification-Errors`,
      });
    }
  }

  /** The configuration the functions parse at cold start: everything but credentials. */
  private runtimeConfig(
    props: AuditedTransferPipelineProps,
    pipeline: PipelineConfig,
    s3Prefix: string,
    encryption: s3.BucketEncryption,
    auditLockRetention: Duration,
  ): Record<string, unknown> {
    const stack = Stack.of(this);
    return {
      tables: props.tables,
      postgres: props.postgres,
      s3: {
        bucket: this.bucket.bucketName,
        region: stack.region,
        prefix: s3Prefix,
        ...(props.bucket === undefined && encryption === s3.BucketEncryption.KMS
          ? { kmsKeyId: this.key.keyArn }
          : {}),
        ...(props.auditObjectLockMode !== undefined
          ? { auditRetention: { mode: props.auditObjectLockMode, days: auditLockRetention.toDays() } }
          : {}),
      },
      snowflake: props.snowflake,
      pipeline,
      ...(props.lineage ? { lineage: props.lineage } : {}),
    };
  }

  /**
   * The checkpoints' HMAC key, generated by Secrets Manager, under the pipeline's key. Kept whatever the
   * removal policy: checkpoints signed with it cannot be verified without it.
   */
  private newCheckpointSecret(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'CheckpointKeySecret', {
      description: "Tally: the audit checkpoints' HMAC key ({ key, previousKeys })",
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'key',
        passwordLength: 64,
        excludePunctuation: true,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'The checkpoint key is rotated by hand: a new key goes into "key" and the old one into "previousKeys", so checkpoints it signed still verify; a rotation function would drop the old key.',
    });
    return secret;
  }

  /** The lineage key's secret, readable by the functions that send lineage events and no other. */
  private grantLineageKey(props: AuditedTransferPipelineProps): void {
    const transport = props.lineage?.transport;
    if (transport?.type !== 'http') return;
    if (transport.apiKey !== undefined) {
      throw new InvalidConfigError(
        "lineage.transport.apiKey would be deployed in the functions' environment: keep the key in a Secrets Manager secret and name it in lineage.transport.apiKeySecret",
      );
    }
    if (transport.apiKeySecret === undefined) return;
    const secret = secretNamed(this, 'LineageKeySecret', transport.apiKeySecret);
    for (const step of LINEAGE_STEPS) {
      secret.grantRead(this.functions[step].role);
    }
  }

  /**
   * The configuration as the functions get it: the bundled file's part (when it holds no token, which a
   * file written at synth could not resolve) and the environment's. The environment's must fit Lambda's.
   */
  private splitConfig(config: Record<string, unknown>): {
    environment: Record<string, unknown>;
    bundled?: Record<string, unknown>;
  } {
    const stack = Stack.of(this);
    const bundled = Object.fromEntries(BUNDLED_CONFIG_KEYS.map((key) => [key, config[key]]));
    const canBundle = !Token.isUnresolved(JSON.stringify(bundled));
    const environment = canBundle
      ? Object.fromEntries(
          Object.entries(config).filter(([key]) => !(BUNDLED_CONFIG_KEYS as readonly string[]).includes(key)),
        )
      : config;
    const size = Buffer.byteLength(JSON.stringify(stack.resolve(environment)));
    if (size > MAX_CONFIG_ENV_BYTES) {
      throw new InvalidConfigError(
        canBundle
          ? `the configuration's postgres and s3 settings are ${size} bytes as JSON, more than the ${MAX_CONFIG_ENV_BYTES} a Lambda environment can hold`
          : `the configuration is ${size} bytes as JSON, more than the ${MAX_CONFIG_ENV_BYTES} a Lambda environment can hold; its tables, snowflake and pipeline settings would go into the functions' bundles instead, but they hold values known only at deploy (CDK tokens)`,
      );
    }
    return canBundle ? { environment, bundled } : { environment };
  }
}
