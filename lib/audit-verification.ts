// The daily verification of the audit log: a Lambda on a schedule that verifies the chain from the last
// verified checkpoint (`lambdas/verify-handler.ts`) and publishes to the alert topic on a break, with only
// what that needs: the Snowflake secret (the audit table is read with the pipeline's Snowflake user) and
// the checkpoint key's, the audit mirror and its checkpoints read, the verification record written, the
// topic published to. An
// alarm on the function's errors covers the runs that could not verify at all.

import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/runtime/env';
import { acknowledgeBucketGrant } from './nag-acknowledgements';
import { StepLambda, type StepLambdaProps } from './step-lambda';

/** The module the verification's function runs. */
export const VERIFY_ENTRY = fileURLToPath(new URL('../lambdas/verify-handler.ts', import.meta.url));

export interface AuditVerificationProps
  extends Omit<StepLambdaProps, 'step' | 'description' | 'memorySize' | 'timeout' | 'entry'> {
  readonly bucket: s3.IBucket;
  /** The audit mirror's prefix, with its trailing slash: `tally/audit/`. */
  readonly auditPrefix: string;
  readonly alertTopic: sns.ITopic;
  readonly snowflakeSecret: secretsmanager.ISecret;
  /** The audit checkpoints' HMAC key, `{ key, previousKeys }`: checkpoints are verified against any of them. */
  readonly checkpointSecret: secretsmanager.ISecret;
  /**
   * The customer-managed key the imported secrets are encrypted with.
   * @default none (Secrets Manager's AWS-managed key)
   */
  readonly secretsKey?: kms.IKey;
  /**
   * When the verification runs.
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;
  /**
   * The name of the alarm on the function's errors.
   * @default a name CloudFormation generates
   */
  readonly alarmName?: string;
  /**
   * Whether the schedule runs the verification.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
}

export class AuditVerification extends Construct {
  readonly function: StepLambda;
  readonly schedule: events.Rule;
  /** Fires when a verification could not run to its end (a break fails it too, after its alert). */
  readonly errorAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AuditVerificationProps) {
    super(scope, id);
    const {
      bucket,
      auditPrefix,
      alertTopic,
      snowflakeSecret,
      checkpointSecret,
      secretsKey,
      schedule,
      scheduleEnabled,
      alarmName,
      environment,
      ...common
    } = props;
    this.function = new StepLambda(this, 'Function', {
      ...common,
      entry: VERIFY_ENTRY,
      step: 'verifyAudit',
      description: 'Tally: verify the audit log against its S3 mirror and checkpoints; alert on a break',
      memorySize: 512,
      timeout: Duration.minutes(15),
      environment: { ...environment, [ENV.alertTopicArn]: alertTopic.topicArn },
    });
    const role = this.function.role;
    this.function.useSecret(snowflakeSecret, ENV.snowflakeSecretArn, secretsKey);
    this.function.useSecret(checkpointSecret, ENV.checkpointSecretArn, secretsKey);
    // Read the mirror and its checkpoints (ListBucket: S3 answers a missing key with 404, not 403), and
    // write nothing but the record of the last verified checkpoint.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${auditPrefix}*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${auditPrefix}verified.json`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${auditPrefix}*`] } },
      }),
    );
    if (bucket.encryptionKey) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [bucket.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    acknowledgeBucketGrant(this.function, bucket, [auditPrefix]);
    alertTopic.grantPublish(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Publishing to the KMS-encrypted alert topic needs data keys from its key; the grant names that key only.',
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Tally: verify the audit log',
      schedule: schedule ?? events.Schedule.rate(Duration.days(1)),
      enabled: scheduleEnabled ?? true,
    });
    this.schedule.addTarget(new targets.LambdaFunction(this.function.function, { retryAttempts: 2 }));

    this.errorAlarm = new cloudwatch.Alarm(this, 'Errors', {
      ...(alarmName !== undefined ? { alarmName } : {}),
      alarmDescription: 'Tally: the audit log verification failed (a break, alerted on the topic, or no run)',
      metric: this.function.function.metricErrors({ period: Duration.days(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm.addAlarmAction(new actions.SnsAction(alertTopic));
  }
}
