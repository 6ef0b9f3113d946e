// The deployable stack: one AuditedTransferPipeline configured from Tally's configuration file, with the
// credentials' secrets either named (existing) or created as placeholders to be filled in after deploy.
import { Annotations, CfnOutput, Duration, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { LAMBDA_CA_FILE, postgresTlsSetting, resolvePostgres, type TallyConfig } from '../lambdas/config';
import { InvalidConfigError } from '../lambdas/domain/errors';
import {
  AuditedTransferPipeline,
  type PostgresEndpoint,
  type SnowflakeTarget,
} from './audited-transfer-pipeline';
import type { NetworkSettings } from './network-settings';
import { PostgresCaBundle } from './postgres-ca-bundle';
import { secretNamed } from './secret-reference';
import { SnowflakeStorageRole } from './snowflake-storage-role';
import { STACK_OUTPUTS } from './stack-outputs';
import { TallyNetwork } from './tally-network';

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
   * Id of the VPC PostgreSQL runs in; the same as `network: { vpcId }`.
   * @default the functions run outside any VPC
   */
  readonly vpcId?: string;
  /**
   * The VPC, subnets, security groups and VPC endpoints of the functions (see NetworkSettings). Without
   * subnet ids the VPC is looked up, which needs the stack's `env` (account and region).
   * @default the functions run outside any VPC
   */
  readonly network?: NetworkSettings;
  /**
   * Snowflake's IAM user for the storage integration (STORAGE_AWS_IAM_USER_ARN of DESC INTEGRATION).
   * @default the placeholder trust of the first deploy
   */
  readonly snowflakeIamUserArn?: string;
  /**
   * The storage integration's external id (STORAGE_AWS_EXTERNAL_ID of DESC INTEGRATION).
   * @default the placeholder trust of the first deploy
   */
  readonly snowflakeExternalId?: string;
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
  /**
   * Deploy the daily verification of the audit log, which alerts on a break (`-c auditVerification=disabled`
   * leaves it out).
   * @default true
   */
  readonly auditVerification?: boolean;
  /**
   * Whether the verification's daily schedule runs (`-c auditVerification=enabled` runs it whatever the
   * pipeline's schedule). Until the secrets are filled in every verification would fail and alert.
   * @default `scheduleEnabled`: it runs once the incremental schedule does
   */
  readonly auditVerificationScheduleEnabled?: boolean;
  /**
   * Name or ARN of an existing secret holding the audit checkpoints' HMAC key, as
   * `{ "key": "...", "previousKeys": [...] }` (`-c auditCheckpointSecretArn=...`).
   * @default a secret with a generated key, kept when the stack is deleted
   */
  readonly auditCheckpointSecretArn?: string;
  /**
   * With the schedule enabled, how many 30-minute intervals in a row may pass without a verified window
   * for a table before its freshness alarm fires (`-c freshnessIntervals=N`).
   * @default 3
   */
  readonly freshnessIntervals?: number;
}

export class TallyStack extends Stack {
  readonly pipeline: AuditedTransferPipeline;
  /** The functions' network, when they run in a VPC. */
  readonly network?: TallyNetwork;
  /** The role Snowflake's storage integration assumes to read staged files. */
  readonly snowflakeRole: SnowflakeStorageRole;

  constructor(scope: Construct, id: string, props: TallyStackProps) {
    super(scope, id, props);
    const { config } = props;
    const settings = props.network ?? (props.vpcId ? { vpcId: props.vpcId } : undefined);
    const postgres = postgresEndpoint(config);
    this.network = settings ? this.buildNetwork(settings, config, postgres.port) : undefined;
    const caBundle = this.caBundle(postgres);
    const postgresSecret = this.secret('PostgresSecret', props.postgresSecret, 'PostgreSQL', {
      username: config.postgres.user ?? 'tally',
    });
    const snowflakeSecret = this.secret('SnowflakeSecret', props.snowflakeSecret, 'Snowflake', {
      username: config.snowflake.username,
    });
    this.pipeline = new AuditedTransferPipeline(this, 'Pipeline', {
      tables: config.tables,
      postgres: caBundle ? withCaFile(postgres, caBundle.path) : postgres,
      snowflake: snowflakeTarget(config),
      postgresSecret,
      snowflakeSecret,
      pipeline: config.pipeline,
      ...(config.lineage ? { lineage: config.lineage } : {}),
      s3Prefix: config.s3.prefix,
      ...(props.useConfiguredBucket
        ? { bucket: s3.Bucket.fromBucketName(this, 'ConfiguredBucket', config.s3.bucket) }
        : {}),
      ...(this.network
        ? {
            vpc: this.network.vpc,
            vpcSubnets: this.network.subnets,
            securityGroup: this.network.securityGroup,
          }
        : {}),
      ...(props.secretsKmsKeyArn !== undefined
        ? { secretsEncryptionKey: kms.Key.fromKeyArn(this, 'SecretsKey', keyArn(props.secretsKmsKeyArn)) }
        : {}),
      ...(props.alertEmails ? { alertEmails: props.alertEmails } : {}),
      ...(props.auditObjectLock ? { auditObjectLockMode: s3.ObjectLockMode[props.auditObjectLock] } : {}),
      ...(props.auditObjectLockDays !== undefined
        ? { auditObjectLockRetention: Duration.days(props.auditObjectLockDays) }
        : {}),
      scheduleEnabled: props.scheduleEnabled ?? false,
      auditVerification: props.auditVerification ?? true,
      ...(props.auditVerificationScheduleEnabled !== undefined
        ? { auditVerificationScheduleEnabled: props.auditVerificationScheduleEnabled }
        : {}),
      ...(props.auditCheckpointSecretArn !== undefined
        ? {
            auditCheckpointSecret: secretNamed(this, 'CheckpointKeySecret', props.auditCheckpointSecretArn),
          }
        : {}),
      ...(props.freshnessIntervals !== undefined ? { freshnessIntervals: props.freshnessIntervals } : {}),
    });
    if (caBundle) {
      for (const fn of Object.values(this.pipeline.functions)) fn.function.addLayers(caBundle.layer);
    }
    this.snowflakeRole = new SnowflakeStorageRole(this, 'SnowflakeStorageRole', {
      bucket: this.pipeline.bucket,
      stagingPrefix: this.pipeline.stagingPrefix,
      ...(this.pipeline.bucket.encryptionKey ? { key: this.pipeline.bucket.encryptionKey } : {}),
      ...(props.snowflakeIamUserArn !== undefined ? { snowflakeIamUserArn: props.snowflakeIamUserArn } : {}),
      ...(props.snowflakeExternalId !== undefined ? { externalId: props.snowflakeExternalId } : {}),
    });
    this.outputs();
    output(
      this,
      STACK_OUTPUTS.postgresSecretArn,
      postgresSecret.secretArn,
      'put the PostgreSQL credentials here',
    );
    output(
      this,
      STACK_OUTPUTS.snowflakeSecretArn,
      snowflakeSecret.secretArn,
      'put the Snowflake credentials here',
    );
    output(
      this,
      STACK_OUTPUTS.checkpointSecretArn,
      this.pipeline.checkpointSecret.secretArn,
      "the audit checkpoints' HMAC key: tally audit verify needs it as audit.checkpointKey",
    );
  }

  /** What the guide's next steps and the command line need from a deployed stack. */
  private outputs(): void {
    const p = this.pipeline;
    output(this, STACK_OUTPUTS.stateMachineArn, p.stateMachine.stateMachineArn, 'tally start --stack');
    output(
      this,
      STACK_OUTPUTS.bucketName,
      p.bucket.bucketName,
      "the bucket the functions stage files in: the storage integration's allowed location",
    );
    output(this, STACK_OUTPUTS.alertTopicArn, p.alertTopic.topicArn, 'alerts are published here');
    output(
      this,
      STACK_OUTPUTS.snowflakeRoleArn,
      this.snowflakeRole.role.roleArn,
      "the storage integration's STORAGE_AWS_ROLE_ARN",
    );
    output(
      this,
      STACK_OUTPUTS.scheduleDeadLetterQueueUrl,
      p.monitoring.scheduleDeadLetterQueue.queueUrl,
      'scheduled starts EventBridge could not deliver',
    );
    output(
      this,
      STACK_OUTPUTS.dashboardName,
      p.monitoring.dashboard.dashboardName,
      'the CloudWatch dashboard',
    );
    if (this.network) {
      output(
        this,
        STACK_OUTPUTS.functionsSecurityGroupId,
        this.network.securityGroup.securityGroupId,
        "the functions' security group: allow it in PostgreSQL's",
      );
    }
  }

  /** The VPC and subnets, from ids (no lookup) or looked up; the functions' group; endpoints; warnings. */
  private buildNetwork(settings: NetworkSettings, config: TallyConfig, postgresPort: number): TallyNetwork {
    const { vpc, subnets, natRoute } = this.vpcOf(settings);
    return new TallyNetwork(this, 'Network', {
      vpc,
      subnets,
      ...(natRoute !== undefined ? { natRoute } : {}),
      postgresPort,
      ...(settings.securityGroupId
        ? {
            // The group is the caller's: Tally adds no rule to it, only rules that name it.
            securityGroup: ec2.SecurityGroup.fromSecurityGroupId(
              this,
              'FunctionsSecurityGroup',
              settings.securityGroupId,
              { mutable: false },
            ),
          }
        : {}),
      ...(settings.postgresSecurityGroupId
        ? {
            postgresSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(
              this,
              'PostgresSecurityGroup',
              settings.postgresSecurityGroupId,
            ),
          }
        : {}),
      ...(settings.vpcEndpoints ? { endpoints: settings.vpcEndpoints } : {}),
      snowflakePrivateLink: /\.privatelink$/i.test(config.snowflake.account),
    });
  }

  private vpcOf(settings: NetworkSettings): {
    vpc: ec2.IVpc;
    subnets: ec2.SubnetSelection;
    natRoute?: boolean;
  } {
    const { subnetIds, availabilityZones = [], routeTableIds } = settings;
    if (subnetIds !== undefined) {
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: settings.vpcId,
        availabilityZones: [...new Set(availabilityZones)],
      });
      const subnets = subnetIds.map((subnetId, i) => {
        const subnet = ec2.Subnet.fromSubnetAttributes(this, `Subnet${i + 1}`, {
          subnetId,
          availabilityZone: availabilityZones[i] as string,
          ...(routeTableIds ? { routeTableId: (routeTableIds[i] ?? routeTableIds[0]) as string } : {}),
        });
        if (!routeTableIds) {
          // Only the S3 gateway endpoint needs the route table, and settings refuse it without one.
          Annotations.of(subnet).acknowledgeWarning(
            '@aws-cdk/aws-ec2:noSubnetRouteTableId',
            'Route tables are needed only for the S3 gateway endpoint, which is refused without them.',
          );
        }
        return subnet;
      });
      return {
        vpc,
        subnets: { subnets },
        ...(settings.natRoute !== undefined ? { natRoute: settings.natRoute } : {}),
      };
    }
    if (Token.isUnresolved(this.account) || Token.isUnresolved(this.region)) {
      throw new InvalidConfigError(
        `vpcId ${settings.vpcId} without subnet ids is looked up, which needs the stack's account and region (env): give them, or give the subnet ids and their availability zones`,
      );
    }
    // CDK's lookup types a subnet by its route table: Private (PRIVATE_WITH_EGRESS) routes through a NAT
    // or transit gateway, Isolated has no route out, Public routes to an internet gateway.
    const vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: settings.vpcId });
    if (vpc.privateSubnets.length > 0) {
      return { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, natRoute: true };
    }
    if (vpc.isolatedSubnets.length > 0) {
      return { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, natRoute: false };
    }
    throw new InvalidConfigError(
      `VPC ${settings.vpcId} has only public subnets: a function there gets no public address, so it reaches nothing outside the VPC. Add private subnets with a NAT route, or give -c subnetIds`,
    );
  }

  /** A CA bundle other than Lambda's own, shipped with the functions. */
  private caBundle(postgres: PostgresEndpoint): PostgresCaBundle | undefined {
    const ssl = postgres.ssl;
    if (typeof ssl !== 'object' || ssl.caFile === undefined || ssl.caFile === LAMBDA_CA_FILE)
      return undefined;
    return new PostgresCaBundle(this, 'PostgresCaBundle', { file: ssl.caFile });
  }

  private secret(
    id: string,
    nameOrArn: string | undefined,
    system: string,
    template: Record<string, string>,
  ): secretsmanager.ISecret {
    if (nameOrArn !== undefined) return secretNamed(this, id, nameOrArn);
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
  return {
    ...rest,
    host,
    port,
    database,
    ssl: postgresTlsSetting(ssl),
    ...(user !== undefined ? { user } : {}),
  };
}

function output(stack: Stack, id: string, value: string, description: string): void {
  new CfnOutput(stack, id, { value, description });
}

/** The endpoint with its CA bundle read from `path` (where the functions find the shipped one). */
function withCaFile(postgres: PostgresEndpoint, path: string): PostgresEndpoint {
  const ssl = typeof postgres.ssl === 'object' ? postgres.ssl : { mode: 'verify-full' as const };
  return { ...postgres, ssl: { ...ssl, caFile: path } };
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
