// The bucket policy that keeps the audit mirror append-only, whatever a role allows: no request may delete
// a mirrored event or any version of the audit prefix, and an event is written only where none exists
// (S3 conditional writes: a PutObject without `If-None-Match: *` is refused, one with it fails with 412
// when the key exists). With versioning on, nothing under the prefix can then be replaced or removed but
// by the lifecycle rules; Object Lock (a construct option) adds a retention S3 itself enforces.
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * The mirror's event objects: `<auditPrefix><jobId>/<table>/<eventId>.json`, two levels below the prefix,
 * where the writer's own state is not: `tail.json` (the chain's head and the events not yet delivered,
 * rewritten by compare-and-swap) and the `pending/<eventId>.json` objects an earlier writer kept, which
 * the writer carries into the tail and removes. IAM's `*` spans slashes, so `*\/*\/*` needs at least
 * two of them.
 */
export function mirrorEventObjects(auditPrefix: string): string {
  return `${auditPrefix}*/*/*`;
}

/**
 * The chain's checkpoints, `<auditPrefix>checkpoints/<seq>.json` (`lambdas/audit/anchor.ts`): written
 * once like the events, and never removed, so the table can always be compared against them.
 */
export function checkpointObjects(auditPrefix: string): string {
  return `${auditPrefix}checkpoints/*`;
}

/** Adds the denials to `bucket`'s policy; `auditPrefix` ends with a slash, e.g. `tally/audit/`. */
export function protectAuditMirror(bucket: s3.Bucket, auditPrefix: string): void {
  const everyone = new iam.AnyPrincipal();
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AuditVersionsAreKept',
      effect: iam.Effect.DENY,
      principals: [everyone],
      actions: ['s3:DeleteObjectVersion'],
      resources: [bucket.arnForObjects(`${auditPrefix}*`)],
    }),
  );
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AuditEventsAreNotDeleted',
      effect: iam.Effect.DENY,
      principals: [everyone],
      actions: ['s3:DeleteObject'],
      resources: [
        bucket.arnForObjects(mirrorEventObjects(auditPrefix)),
        bucket.arnForObjects(checkpointObjects(auditPrefix)),
      ],
    }),
  );
  // S3 User Guide, "Enforce conditional writes on Amazon S3 buckets": the s3:if-none-match key is absent
  // (Null = true) on a write that may replace an existing object.
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AuditEventsAreWrittenOnce',
      effect: iam.Effect.DENY,
      principals: [everyone],
      actions: ['s3:PutObject'],
      resources: [
        bucket.arnForObjects(mirrorEventObjects(auditPrefix)),
        bucket.arnForObjects(checkpointObjects(auditPrefix)),
      ],
      conditions: { Null: { 's3:if-none-match': 'true' } },
    }),
  );
}
