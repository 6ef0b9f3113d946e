// The IAM role Snowflake's storage integration assumes to read staged files: read-only on the staging
// prefix, listing limited to it, kms:Decrypt when the bucket is encrypted with KMS. Its trust follows
// Snowflake's two-phase set-up (Snowflake, "Option 1: Configuring a Snowflake storage integration to
// access Amazon S3", https://docs.snowflake.com/en/user-guide/data-load-s3-config-storage-integration):
// the role exists first with a placeholder trust (this account, external id 0000), CREATE STORAGE
// INTEGRATION names its ARN, DESC INTEGRATION then gives STORAGE_AWS_IAM_USER_ARN and
// STORAGE_AWS_EXTERNAL_ID, and the second deploy trusts exactly that user with that external id.
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { InvalidConfigError } from '../lambdas/domain/errors';
import { renderIntrinsics } from './synthesize-definition';

/** The external id of the first deploy's trust, as Snowflake's set-up page suggests for the placeholder. */
export const PLACEHOLDER_EXTERNAL_ID = '0000';

export interface SnowflakeStorageRoleProps {
  readonly bucket: s3.IBucket;
  /** The prefix Snowflake reads, e.g. `tally/staging/`. */
  readonly stagingPrefix: string;
  /**
   * The key that encrypts the bucket, when it is KMS.
   * @default none (SSE-S3: Snowflake reads without a key grant)
   */
  readonly key?: kms.IKey;
  /**
   * The storage integration's STORAGE_AWS_IAM_USER_ARN (DESC INTEGRATION).
   * @default the placeholder trust of the first deploy
   */
  readonly snowflakeIamUserArn?: string;
  /**
   * The storage integration's STORAGE_AWS_EXTERNAL_ID (DESC INTEGRATION).
   * @default the placeholder trust of the first deploy
   */
  readonly externalId?: string;
}

const IAM_USER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:user\/\S+$/;

export class SnowflakeStorageRole extends Construct {
  readonly role: iam.Role;
  /** Whether the trust is still the first deploy's placeholder. */
  readonly placeholderTrust: boolean;

  constructor(scope: Construct, id: string, props: SnowflakeStorageRoleProps) {
    super(scope, id);
    const { snowflakeIamUserArn: userArn, externalId } = props;
    if ((userArn === undefined) !== (externalId === undefined)) {
      throw new InvalidConfigError(
        'give both -c snowflakeIamUser and -c snowflakeExternalId (STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from DESC INTEGRATION), or neither on the first deploy',
      );
    }
    if (userArn !== undefined && !IAM_USER_ARN.test(userArn)) {
      throw new InvalidConfigError(
        `-c snowflakeIamUser '${userArn}' is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME): copy STORAGE_AWS_IAM_USER_ARN from DESC INTEGRATION`,
      );
    }
    this.placeholderTrust = userArn === undefined;
    // The placeholder trusts only this account's principals that are themselves allowed to assume the
    // role, and only with the external id given; Snowflake cannot assume it until the second deploy.
    const principal =
      userArn === undefined
        ? new iam.AccountPrincipal(Stack.of(this).account)
        : new iam.ArnPrincipal(userArn);
    this.role = new iam.Role(this, 'Role', {
      description: this.placeholderTrust
        ? 'Tally: read by Snowflake storage integration (placeholder trust until the second deploy)'
        : 'Tally: read by Snowflake storage integration',
      assumedBy: principal.withConditions({
        StringEquals: { 'sts:ExternalId': externalId ?? PLACEHOLDER_EXTERNAL_ID },
      }),
    });

    const prefix = props.stagingPrefix;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadStagedFiles',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListStagedFiles',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    // GetBucketLocation has no s3:prefix key, so a prefix condition would deny it.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LocateBucket',
        actions: ['s3:GetBucketLocation'],
        resources: [props.bucket.bucketArn],
      }),
    );
    // cdk-nag names the finding by the resource as it renders it: <LogicalId.Arn>/prefix/*.
    const objects = renderIntrinsics(
      Stack.of(this).resolve(props.bucket.arnForObjects(`${prefix}*`)),
      (id, attribute) => `<${attribute === undefined ? id : `${id}.${attribute}`}>`,
      (other) => JSON.stringify(other),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objects}]`,
      reason:
        'Snowflake reads the staged files, whose keys are known only at run time, under the staging prefix alone; the actions are read-only.',
    });
    if (props.key !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptStagedFiles',
          actions: ['kms:Decrypt'],
          resources: [props.key.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
