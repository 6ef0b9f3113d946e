// The deployable stack: one AuditedTransferPipeline configured from Tally's configuration file, with the
// credentials' secrets either named (existing) or created as placeholders to be filled in after deploy.
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { resolvePostgres, type TallyConfig } from '../lambdas/config';
import { InvalidConfigError } from '../lambdas/domain/errors';
import {
  AuditedTransferPipeline,
  type PostgresEndpoint,
  type SnowflakeTarget,
} from './audited-transfer-pipeline';

export interface TallyStackProps extends StackProps {
  /** The validated configuration (tables, PostgreSQL endpoint, Snowflake objects, pipeline settings). */
  readonly config: TallyConfig;
  /**
   * Name or ARN of an existing secret with the PostgreSQL credentials.
   * @default a placeholder secret is created; put the credentials into it after the first deploy
   */
  readonly postgresSecret?: string;
  /**
   * Name or ARN of an existing secret with the Snowflake credentials.
   * @default a placeholder secret is created; put the credentials into it after the first deploy
   */
  readonly snowflakeSecret?: string;
  /**
   * Use the bucket named in the configuration (`s3.bucket`) instead of creating one.
   * @default false
   */
  readonly useConfiguredBucket?: boolean;
  /**
   * Id of the VPC PostgreSQL runs in; the functions run in its private subnets. Looked up at synth
   * time, which needs AWS credentials once (the result is cached in cdk.context.json).
   * @default the functions run outside any VPC
   */
  readonly vpcId?: string;
  /**
   * @default none
   */
  readonly alertEmails?: readonly string[];
  /**
   * ARN of the customer-managed KMS key the named secrets are encrypted with; the functions that read a
   * secret may decrypt with it through Secrets Manager only (`kms:ViaService`).
   * @default the secrets use Secrets Manager's AWS-managed key, which needs no grant
   */
  readonly secretsKmsKeyArn?: string;
  /**
   * Create the bucket with Object Lock and lock each mirrored audit event in this mode.
   * @default no Object Lock
   */
  readonly auditObjectLock?: 'GOVERNANCE' | 'COMPLIANCE';
  /**
   * Days each mirrored audit event is locked, with `auditObjectLock`.
   * @default the audit mirror's retention, seven years (2557 days)
   */
  readonly auditObjectLockDays?: number;
  /**
   * Whether the 30-minute schedule starts the incremental pipeline (`-c schedule=enabled`). Enable it once
   * the secrets are filled in and the historical load has run.
   * @default false
   */
  readonly scheduleEnabled?: boolean;
}

export class TallyStack extends Stack {
  readonly pipeline: AuditedTransferPipeline;

  constructor(scope: Construct, id: string, props: TallyStackProps) {
    super(scope, id, props);
    const { config } = props;
    const vpc = props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined;
    this.pipeline = new AuditedTransferPipeline(this, 'Pipeline', {
      tables: config.tables,
      postgres: postgresEndpoint(config),
      snowflake: snowflakeTarget(config),
      postgresSecret: this.secret('PostgresSecret', props.postgresSecret, 'PostgreSQL', {
        username: config.postgres.user ?? 'tally',
      }),
      snowflakeSecret: this.secret('SnowflakeSecret', props.snowflakeSecret, 'Snowflake', {
        username: config.snowflake.username,
      }),
      pipeline: config.pipeline,
      s3Prefix: config.s3.prefix,
      ...(props.useConfiguredBucket
        ? { bucket: s3.Bucket.fromBucketName(this, 'ConfiguredBucket', config.s3.bucket) }
        : {}),
      ...(vpc ? { vpc } : {}),
      ...(props.secretsKmsKeyArn !== undefined
        ? { secretsEncryptionKey: kms.Key.fromKeyArn(this, 'SecretsKey', keyArn(props.secretsKmsKeyArn)) }
        : {}),
      ...(props.alertEmails ? { alertEmails: props.alertEmails } : {}),
      ...(props.auditObjectLock ? { auditObjectLockMode: s3.ObjectLockMode[props.auditObjectLock] } : {}),
      ...(props.auditObjectLockDays !== undefined
        ? { auditObjectLockRetention: Duration.days(props.auditObjectLockDays) }
        : {}),
      scheduleEnabled: props.scheduleEnabled ?? false,
    });
  }

  private secret(
    id: string,
    nameOrArn: string | undefined,
    system: string,
    template: Record<string, string>,
  ): secretsmanager.ISecret {
    if (nameOrArn !== undefined) {
      if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(this, id, nameOrArn);
      // Secrets Manager appends six random characters to a secret's ARN; without them the ARN is partial.
      return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, id, nameOrArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, id, nameOrArn);
    }
    // A placeholder with the right shape and a random password that works nowhere: replace its value
    // with the real credentials (`aws secretsmanager put-secret-value`) before the first run.
    const secret = new secretsmanager.Secret(this, id, {
      description: `Tally: ${system} credentials (placeholder until replaced with the real ones)`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(template),
        generateStringKey: 'password',
        excludePunctuation: true,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: `The ${system} credentials are issued and rotated by the ${system} owner, outside this stack; Secrets Manager cannot rotate them without a rotation function for that system.`,
    });
    return secret;
  }
}

/**
 * A KMS key's ARN, as IAM needs it in a policy's resource: an alias does not name the key there (KMS
 * Developer Guide, "Using aliases to control access to KMS keys").
 */
function keyArn(value: string): string {
  if (/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value)) return value;
  throw new InvalidConfigError(
    `-c secretsKmsKeyArn is '${value}': it must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias or a key id`,
  );
}

/** The PostgreSQL endpoint without credentials; a `url` is split into its parts and its password dropped. */
export function postgresEndpoint(config: TallyConfig): PostgresEndpoint {
  const { url: _url, password: _password, passwordFile: _passwordFile, ...rest } = config.postgres;
  const { host, port, database, user, ssl } = resolvePostgres(config.postgres);
  return { ...rest, host, port, database, ssl, ...(user !== undefined ? { user } : {}) };
}

/** The Snowflake target without credentials. */
export function snowflakeTarget(config: TallyConfig): SnowflakeTarget {
  const {
    password: _password,
    privateKey: _privateKey,
    privateKeyFile: _privateKeyFile,
    ...rest
  } = config.snowflake;
  return rest;
}
