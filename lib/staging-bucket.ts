// The pipeline's bucket: staged part files under `<prefix>/staging/` (expired after a while) and the audit
// mirror under `<prefix>/audit/` (kept for years, append-only under its bucket policy, optionally under
// Object Lock), private, TLS only, versioned, with server access logs delivered to a bucket of their own.
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { protectAuditMirror } from './audit-mirror-policy';

export interface StagingBucketProps {
  /** `s3.BucketEncryption.S3_MANAGED`, or `KMS` with `encryptionKey`. */
  readonly encryption: s3.BucketEncryption;
  /** The key of `BucketEncryption.KMS`. */
  readonly encryptionKey?: kms.IKey;
  /** Where staged files live, e.g. `tally/staging/`. */
  readonly stagingPrefix: string;
  /** Where the audit mirror lives, e.g. `tally/audit/`. */
  readonly auditPrefix: string;
  readonly stagedFileRetention: Duration;
  readonly auditMirrorRetention: Duration;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Create the bucket with Object Lock enabled, so the audit writer can give each mirrored event a
   * retention S3 enforces. Only possible when the bucket is created.
   * @default false
   */
  readonly objectLock?: boolean;
}

export class StagingBucket extends s3.Bucket {
  /** Receives this bucket's server access logs. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StagingBucketProps) {
    const accessLogs = new s3.Bucket(scope, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
      removalPolicy: props.removalPolicy,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        "This bucket receives the data bucket's server access logs; logging it too would only log the logging.",
    });
    super(scope, id, {
      encryption: props.encryption,
      ...(props.encryption === s3.BucketEncryption.KMS && props.encryptionKey
        ? { encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : {}),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      ...(props.objectLock ? { objectLockEnabled: true } : {}),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'ExpireStagedFiles',
          prefix: props.stagingPrefix,
          expiration: props.stagedFileRetention,
          noncurrentVersionExpiration: Duration.days(1),
        },
        // No storage-class transition: audit events are a few KB, and S3 transitions no object under
        // 128 KB by default (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle"), where
        // Standard-IA would bill 128 KB each anyway. The chain's tail file is rewritten on every audit
        // write: each version it had stays for the mirror's retention after it was replaced, so the
        // chain's history can be followed for as long as its events are kept.
        {
          id: 'KeepAuditMirror',
          prefix: props.auditPrefix,
          expiration: props.auditMirrorRetention,
          noncurrentVersionExpiration: props.auditMirrorRetention,
        },
      ],
      removalPolicy: props.removalPolicy,
    });
    this.accessLogs = accessLogs;
    protectAuditMirror(this, props.auditPrefix);
  }
}
