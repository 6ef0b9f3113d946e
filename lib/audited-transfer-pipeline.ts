// The reusable construct: everything an audited PostgreSQL -> S3 -> Snowflake transfer needs in AWS (the
// staging bucket, the alert topic, one Lambda per step, the state machine and its schedule).
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  type PipelineConfig,
  type PostgresConfig,
  pipelineSchema,
  type SnowflakeConfig,
  type TableConfig,
} from '../lambdas/config';
import { InvalidConfigError } from '../lambdas/domain/errors';
import { ENV } from '../lambdas/runtime/env';
import { STEP_TIMEOUT_SECONDS } from '../lambdas/steps/contract';
import { type RetrySettings, TransferDefinition } from './state-machine-definition';
import { handlerEntry, TransferFunction } from './transfer-function';

/** Where PostgreSQL is, without credentials: those come from the PostgreSQL secret. */
export type PostgresEndpoint = Omit<PostgresConfig, 'password' | 'passwordFile' | 'url'>;

/** The Snowflake objects Tally uses, without credentials: those come from the Snowflake secret. */
export type SnowflakeTarget = Omit<SnowflakeConfig, 'password' | 'privateKey' | 'privateKeyFile'>;

export interface AuditedTransferPipelineProps {
  /** The tables to transfer. */
  readonly tables: readonly TableConfig[];
  /** Where PostgreSQL listens; the secret may override host, port, database and user. */
  readonly postgres: PostgresEndpoint;
  /** The Snowflake account, database, schema, stage and storage integration Tally uses. */
  readonly snowflake: SnowflakeTarget;
  /**
   * PostgreSQL credentials: `{ password, username?, host?, port?, dbname? }` (the RDS layout).
   */
  readonly postgresSecret: secretsmanager.ISecret;
  /**
   * Snowflake credentials: `{ password }` or `{ privateKey }` (PEM), optionally `username`.
   */
  readonly snowflakeSecret: secretsmanager.ISecret;
  /**
   * Lookback, lag, file size, compression and chunk size.
   * @default the configuration schema's defaults (lookback 300 s, lag 60 s, 128 MiB files)
   */
  readonly pipeline?: Partial<PipelineConfig>;
  /**
   * When the incremental pipeline starts. Historical runs are started by hand.
   * @default events.Schedule.rate(Duration.minutes(30))
   */
  readonly schedule?: events.Schedule;
  /**
   * VPC to run the functions in, to reach PostgreSQL on EC2. The subnets need egress to Snowflake and S3.
   * @default the functions run outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * @default the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security group of the functions; allow it in PostgreSQL's security group on its port.
   * @default a new security group with outbound access only (when `vpc` is set)
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * Topic the alert goes to.
   * @default a new topic encrypted with the pipeline's key
   */
  readonly alertTopic?: sns.ITopic;
  /**
   * Email addresses subscribed to the alert topic.
   * @default none
   */
  readonly alertEmails?: readonly string[];
  /**
   * Bucket for staged files and the audit mirror. A given bucket keeps its own encryption and lifecycle.
   * @default a new bucket (see `bucketEncryption`, `stagedFileRetention`, `auditMirrorRetention`)
   */
  readonly bucket?: s3.IBucket;
  /**
   * Encryption of a new bucket. SSE-S3 lets Snowflake's storage integration read staged files without
   * a grant on a key; with KMS, give that role `kms:Decrypt` on `key` too.
   * @default s3.BucketEncryption.S3_MANAGED
   */
  readonly bucketEncryption?: s3.BucketEncryption.S3_MANAGED | s3.BucketEncryption.KMS;
  /**
   * Prefix of every key Tally writes.
   * @default 'tally'
   */
  readonly s3Prefix?: string;
  /**
   * How long staged files stay in a new bucket (`<s3Prefix>/staging/`).
   * @default Duration.days(14)
   */
  readonly stagedFileRetention?: Duration;
  /**
   * How long the audit mirror stays in a new bucket (`<s3Prefix>/audit/`).
   * @default Duration.days(2557) (seven years)
   */
  readonly auditMirrorRetention?: Duration;
  /**
   * Retention of the functions' and the state machine's logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Tables transferred at the same time.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * Retry timing of the steps.
   * @default 5 s first wait, 4 retries, at most 2 min between attempts
   */
  readonly retry?: RetrySettings;
  /**
   * Longest an execution may run.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * What happens to the bucket and the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The step functions, keyed like `TransferDefinitionProps.functions`. */
export interface PipelineFunctions {
  readonly plan: TransferFunction;
  readonly countSource: TransferFunction;
  readonly exportToS3: TransferFunction;
  readonly loadSnowflake: TransferFunction;
  readonly verifyCounts: TransferFunction;
  readonly writeAudit: TransferFunction;
}

/** Lambda allows 4 KB of environment per function; the configuration must fit in what is left. */
const MAX_CONFIG_ENV_BYTES = 3_500;

export class AuditedTransferPipeline extends Construct {
  readonly bucket: s3.IBucket;
  readonly alertTopic: sns.ITopic;
  /** Encrypts the topic and the log groups (and a new bucket with `BucketEncryption.KMS`). */
  readonly key: kms.Key;
  readonly functions: PipelineFunctions;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
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

    this.key = new kms.Key(this, 'Key', {
      description: 'Tally: alert topic and logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    allowLogsToUse(this.key);

    this.bucket =
      props.bucket ??
      this.createBucket(bucketEncryption, stagedFileRetention, auditMirrorRetention, removalPolicy);

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

    const configJson = Stack.of(this).toJsonString(
      this.runtimeConfig(props, pipeline, s3Prefix, bucketEncryption),
    );
    const common = {
      logRetention,
      logEncryptionKey: this.key,
      removalPolicy,
      environment: { [ENV.config]: configJson },
      ...(props.vpc ? { vpc: props.vpc } : {}),
      ...(props.vpcSubnets ? { vpcSubnets: props.vpcSubnets } : {}),
      ...(this.securityGroup ? { securityGroups: [this.securityGroup] } : {}),
    };
    const make = (
      fnId: string,
      file: string,
      description: string,
      extra: Partial<typeof common> & { memorySize?: number; timeout?: Duration } = {},
    ) => new TransferFunction(this, fnId, { ...common, ...extra, entry: handlerEntry(file), description });
    this.functions = {
      plan: make('Plan', 'plan.ts', 'Tally: validate the input, plan each table and its window', {
        timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.plan),
      }),
      countSource: make(
        'CountSource',
        'count-source.ts',
        'Tally: count the rows of a table window at the source',
        { timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.countSource) },
      ),
      exportToS3: make('ExportToS3', 'export-to-s3.ts', 'Tally: export a table window to S3 as gzip CSV', {
        // gzip is the bottleneck and Lambda's CPU share grows with memory.
        memorySize: 2048,
        timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.exportToS3),
      }),
      loadSnowflake: make(
        'LoadSnowflake',
        'load-snowflake.ts',
        'Tally: COPY or MERGE staged files into Snowflake',
        { timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.loadSnowflake) },
      ),
      verifyCounts: make('VerifyCounts', 'verify-counts.ts', 'Tally: count the target and close the ledger', {
        timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.verifyCounts),
      }),
      writeAudit: make('WriteAudit', 'write-audit.ts', 'Tally: append audit events to Snowflake and S3', {
        timeout: Duration.seconds(STEP_TIMEOUT_SECONDS.writeAudit),
      }),
    };
    for (const fn of Object.values(this.functions) as TransferFunction[]) {
      // Every step may write audit events (a retry records itself), so every step reaches Snowflake and
      // the audit mirror; only the steps that read PostgreSQL get its secret.
      fn.useSecret(props.snowflakeSecret, ENV.snowflakeSecretArn);
      this.bucket.grantReadWrite(fn.role, `${s3Prefix}/*`);
      acknowledgeBucketGrant(fn, this.bucket, s3Prefix);
    }
    for (const fn of [
      this.functions.plan,
      this.functions.countSource,
      this.functions.exportToS3,
      this.functions.verifyCounts,
    ]) {
      fn.useSecret(props.postgresSecret, ENV.postgresSecretArn);
    }

    const definition = new TransferDefinition(this, 'Definition', {
      functions: {
        plan: this.functions.plan.function,
        countSource: this.functions.countSource.function,
        exportToS3: this.functions.exportToS3.function,
        loadSnowflake: this.functions.loadSnowflake.function,
        verifyCounts: this.functions.verifyCounts.function,
        writeAudit: this.functions.writeAudit.function,
      },
      alertTopic: this.alertTopic,
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
      ...(props.retry ? { retry: props.retry } : {}),
    });

    const stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', {
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
    // The SNS task grants sns:Publish; publishing to an encrypted topic needs the key as well.
    this.alertTopic.grantPublish(this.stateMachine);
    acknowledgeStateMachineRole(this.stateMachine, Object.values(this.functions) as TransferFunction[]);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Tally: start the incremental pipeline',
      schedule,
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({ pipeline: 'incremental' }),
          // A missed run is not lost: the next one starts from the last verified watermark.
          retryAttempts: 2,
        }),
      ],
    });
  }

  private createBucket(
    encryption: s3.BucketEncryption,
    stagedFileRetention: Duration,
    auditMirrorRetention: Duration,
    removalPolicy: RemovalPolicy,
  ): s3.Bucket {
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        "This bucket receives the data bucket's server access logs; logging it too would only log the logging.",
    });
    return new s3.Bucket(this, 'Bucket', {
      encryption,
      ...(encryption === s3.BucketEncryption.KMS ? { encryptionKey: this.key, bucketKeyEnabled: true } : {}),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'ExpireStagedFiles',
          prefix: this.stagingPrefix,
          expiration: stagedFileRetention,
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'KeepAuditMirror',
          prefix: this.auditPrefix,
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
          expiration: auditMirrorRetention,
          noncurrentVersionExpiration: auditMirrorRetention,
        },
      ],
      removalPolicy,
    });
  }

  /** The configuration the functions parse at cold start: everything but credentials. */
  private runtimeConfig(
    props: AuditedTransferPipelineProps,
    pipeline: PipelineConfig,
    s3Prefix: string,
    encryption: s3.BucketEncryption,
  ): unknown {
    const stack = Stack.of(this);
    const config = {
      tables: props.tables,
      postgres: props.postgres,
      s3: {
        bucket: this.bucket.bucketName,
        region: stack.region,
        prefix: s3Prefix,
        ...(props.bucket === undefined && encryption === s3.BucketEncryption.KMS
          ? { kmsKeyId: this.key.keyArn }
          : {}),
      },
      snowflake: props.snowflake,
      pipeline,
    };
    const size = Buffer.byteLength(JSON.stringify(stack.resolve(config)));
    if (size > MAX_CONFIG_ENV_BYTES) {
      throw new InvalidConfigError(
        `the configuration is ${size} bytes as JSON, more than the ${MAX_CONFIG_ENV_BYTES} a Lambda environment can hold: list fewer tables per pipeline`,
      );
    }
    return config;
  }
}

/** CloudWatch Logs encrypts with the key only if the key policy lets the Logs service of this region in. */
function allowLogsToUse(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
}

function acknowledgeBucketGrant(fn: TransferFunction, bucket: s3.IBucket, s3Prefix: string): void {
  const reason =
    "Scoped to the pipeline bucket and Tally's prefix: steps write and read part files and audit events whose keys are only known at run time; the wildcard actions are the object-level read/write set CDK grants.";
  const bucketArn = Stack.of(fn).resolve(bucket.bucketArn) as { 'Fn::GetAtt'?: [string, string] } | string;
  const arnText = typeof bucketArn === 'string' ? bucketArn : `<${bucketArn['Fn::GetAtt']?.[0]}.Arn>`;
  for (const finding of [
    'Action::s3:GetObject*',
    'Action::s3:GetBucket*',
    'Action::s3:List*',
    'Action::s3:DeleteObject*',
    'Action::s3:Abort*',
    `Resource::${arnText}/${s3Prefix}/*`,
    'Action::kms:ReEncrypt*',
    'Action::kms:GenerateDataKey*',
  ]) {
    Validations.of(fn.role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`, reason });
  }
}

function acknowledgeStateMachineRole(
  stateMachine: sfn.StateMachine,
  functions: readonly TransferFunction[],
): void {
  const stack = Stack.of(stateMachine);
  for (const fn of functions) {
    const logicalId = stack.getLogicalId(fn.function.node.defaultChild as import('aws-cdk-lib').CfnElement);
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason:
        'CDK grants the invoke on the function and its versions and aliases (ARN:*); the state machine calls only these functions.',
    });
  }
  for (const finding of ['Resource::*', 'Action::kms:GenerateDataKey*']) {
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
      reason:
        finding === 'Resource::*'
          ? 'Log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing do not support resource-level permissions.'
          : 'Publishing to the KMS-encrypted alert topic needs data keys from its key; the grant names that key only.',
    });
  }
}
