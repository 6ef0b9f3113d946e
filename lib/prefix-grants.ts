// What each registry prefix lets a step do in the pipeline's bucket, action by action, instead of CDK's
// object read/write set (which adds DeleteObjectVersion, legal holds, tagging and every bucket read):
// staged part files are written, listed and removed by the export; the audit log's objects are read,
// written and listed by every step (each may record a retry), and only its pending events are removed
// once delivered; the OpenLineage events an endpoint did not take are kept, read and removed by the steps that
// send them (Plan and WriteAudit); the tables' resolved columns are written by Plan and only read by the other steps. The bucket policy (`audit-mirror-policy.ts`) keeps the mirror itself from being
// removed or replaced whatever a role allows.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { STEP_PREFIX_PATHS, type StepPrefix } from '../lambdas/steps/registry';

export interface PrefixGrantOptions {
  /** Tally's prefix in the bucket (`s3.prefix`). */
  readonly s3Prefix: string;
  /** The bucket's objects are written with an Object Lock retention (the audit mirror's). */
  readonly objectLock: boolean;
}

/**
 * The object actions of one prefix. PutObject covers a multipart upload's create, parts and completion;
 * DeleteObject covers each key of a DeleteObjects batch (S3 API reference, DeleteObjects).
 */
export function prefixActions(prefix: StepPrefix, options: Pick<PrefixGrantOptions, 'objectLock'>): string[] {
  switch (prefix) {
    case 'staging':
      return ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'];
    case 'audit':
      return [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        ...(options.objectLock ? ['s3:PutObjectRetention'] : []),
      ];
    case 'plans':
      return ['s3:PutObject'];
    case 'plans-read':
      return ['s3:GetObject'];
    case 'lineage':
      // Kept lineage events are written, read back to be sent again, and removed once sent.
      return ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
  }
}

/** The object key prefix of `prefix` under Tally's, with its trailing slash: `tally/staging/plans/`. */
export function prefixPath(s3Prefix: string, prefix: StepPrefix): string {
  return `${s3Prefix}/${STEP_PREFIX_PATHS[prefix]}/`;
}

/** Grants `role` the prefixes of its step, listing included, and the bucket's KMS key through S3 only. */
export function grantPrefixes(
  role: iam.IRole,
  bucket: s3.IBucket,
  prefixes: readonly StepPrefix[],
  options: PrefixGrantOptions,
): void {
  if (prefixes.length === 0) return;
  for (const prefix of prefixes) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: prefixActions(prefix, options),
        resources: [bucket.arnForObjects(`${prefixPath(options.s3Prefix, prefix)}*`)],
      }),
    );
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: {
        StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefixPath(options.s3Prefix, prefix)}*`) },
      },
    }),
  );
  if (bucket.encryptionKey) {
    // SSE-KMS: S3 asks the key for a data key to write and decrypts it to read or to finish a multipart
    // upload (S3 User Guide, "Using server-side encryption with AWS KMS keys"); nothing else may use it.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [bucket.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` } },
      }),
    );
  }
}
