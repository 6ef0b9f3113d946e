// The props of AuditedTransferPipeline, each with its default, and the shapes of the PostgreSQL and
// Snowflake settings it deploys (everything but credentials, which come from the secrets).
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type {
  LineageConfig,
  PipelineSettings,
  PostgresConfig,
  SnowflakeConfig,
  TableConfig,
} from '../lambdas/config';
import type { RetrySettings } from './transfer-definition';

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
   * The customer-managed KMS key the secrets are encrypted with, when they are: each function that reads
   * a secret may decrypt with it through Secrets Manager only (`kms:ViaService`). CDK's read grant of an
   * imported secret adds no such permission, even with an imported key (aws-cdk issue 20087).
   * @default the secrets use Secrets Manager's AWS-managed key, which needs no grant
   */
  readonly secretsEncryptionKey?: kms.IKey;
  /**
   * Lookback, lag, file size, compression and the volume guard.
   * @default the configuration schema's defaults (lookback 300 s, lag 60 s, 128 MiB files)
   */
  readonly pipeline?: PipelineSettings;
  /**
   * Where Plan and WriteAudit send OpenLineage events (the configuration's `lineage`). An HTTP transport's
   * key must come from Secrets Manager (`transport.apiKeySecret`, which those two functions may read), never
   * from `apiKey`, which would be deployed in their environment. The functions need a route to the endpoint.
   * @default none: no lineage event is sent
   */
  readonly lineage?: LineageConfig;
  /**
   * When the incremental pipeline starts. Historical runs are started by hand.
   * @default events.Schedule.rate(Duration.minutes(30))
   */
  readonly schedule?: events.Schedule;
  /**
   * Whether the schedule starts executions. Off until enabled: a first deploy has placeholder secrets and
   * no historical load yet, and every scheduled run would fail and alert.
   * @default false
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Verify the audit log on a schedule (a Lambda, `AuditVerification`) and alert on a break.
   * @default true
   */
  readonly auditVerification?: boolean;
  /**
   * Whether the verification's schedule runs. With placeholder secrets every verification would fail and
   * alert, so by default it runs when the incremental schedule does.
   * @default `scheduleEnabled`
   */
  readonly auditVerificationScheduleEnabled?: boolean;
  /**
   * The secret holding the audit checkpoints' HMAC key, `{ "key": "...", "previousKeys": [...] }`: the
   * functions that write audit events sign checkpoints with `key`, and the verification accepts `key` or
   * any of `previousKeys`. Encrypted with `secretsEncryptionKey` when that is given.
   * @default a new secret with a generated 64-character key, encrypted with the pipeline's key and kept
   * when the stack is deleted (without it, signed checkpoints can no longer be verified)
   */
  readonly auditCheckpointSecret?: secretsmanager.ISecret;
  /**
   * When the audit verification runs, with `auditVerification`.
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly auditVerificationSchedule?: events.Schedule;
  /**
   * With the schedule enabled, how many schedule intervals in a row may pass without a verified window
   * for a table before its freshness alarm fires. A rate schedule is needed: its rate is the interval.
   * @default 3
   */
  readonly freshnessIntervals?: number;
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
   * Create the bucket with S3 Object Lock, and keep every mirrored audit event under a retention of this
   * mode for `auditObjectLockRetention`: GOVERNANCE (only a principal allowed s3:BypassGovernanceRetention
   * can shorten it) or COMPLIANCE (no one can, not even the account's root user). Only for a new bucket, and
   * only when it is created. The writer's own state (tail pointer, pending events) is not locked.
   * @default no Object Lock (the bucket policy alone keeps the mirror append-only)
   */
  readonly auditObjectLockMode?: s3.ObjectLockMode;
  /**
   * How long each mirrored audit event is locked, with `auditObjectLockMode`.
   * @default `auditMirrorRetention`
   */
  readonly auditObjectLockRetention?: Duration;
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
