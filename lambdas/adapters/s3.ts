// The S3 stage: where exports are written and audit events are kept. Every write asks for server-side
// encryption; a streamed upload that fails is aborted, so no partial object is ever left behind.
import { pipeline, type Readable, Transform } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Config } from '../config';
import { InvalidConfigError, StageUnavailableError, TallyError } from '../domain/errors';
import type { Stage, Tagged } from '../ports';
import { awsRequestHandler, S3_TIMEOUTS } from './aws-http';
import { NETWORK_CODES } from './network';

/** Multipart part size: big enough to keep requests few, small enough to bound memory (x queue size). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
const DELETE_BATCH = 1000;

/**
 * The one way Tally builds its S3 client, in AWS and locally. Locally only `endpoint`, the explicit
 * credentials and `forcePathStyle` differ; in AWS credentials come from the Lambda role.
 */
export function createS3Client(config: S3Config): S3Client {
  const credentials =
    config.accessKeyId !== undefined && config.secretAccessKey !== undefined
      ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
      : undefined;
  return new S3Client({
    region: config.region,
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    ...(credentials ? { credentials } : {}),
    // Without limits a subnet with no route to S3 hangs each request until the Lambda's timeout.
    requestHandler: awsRequestHandler(S3_TIMEOUTS),
  });
}

const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
]);
const DENIED_NAMES = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'Forbidden',
]);

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

export class S3Stage implements Stage {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly where: string;
  private readonly encryption: Pick<PutObjectCommandInput, 'ServerSideEncryption' | 'SSEKMSKeyId'>;
  private readonly retention: S3Config['auditRetention'];

  /** `client` defaults to `createS3Client(config)`; pass one to share it or to observe its requests. */
  constructor(config: S3Config, client: S3Client = createS3Client(config)) {
    this.bucket = config.bucket;
    this.client = client;
    this.where = config.endpoint ?? `region ${config.region}`;
    this.encryption =
      config.kmsKeyId !== undefined
        ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: config.kmsKeyId }
        : { ServerSideEncryption: 'AES256' };
    this.retention = config.auditRetention;
  }

  async upload(key: string, body: Readable, contentType?: string): Promise<{ key: string; bytes: number }> {
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    // A failing body fails `counted`, which makes Upload stop reading and abort the multipart upload.
    pipeline(body, counted, () => {});
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counted,
        ...(contentType !== undefined ? { ContentType: contentType } : {}),
        ...this.encryption,
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      return { key, bytes };
    } catch (err) {
      // Stop whoever is still feeding the body; Upload has already aborted the multipart upload.
      counted.destroy();
      body.destroy();
      throw this.translate(err, `upload ${key}`);
    }
  }

  async putJson(key: string, value: unknown): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
          ...this.encryption,
        }),
      );
    } catch (err) {
      throw this.translate(err, `write ${key}`);
    }
  }

  /**
   * A conditional write (`If-None-Match: *`): S3 answers 412 when the key exists, and the bucket policy
   * refuses an unconditional write to the audit mirror (S3 User Guide, "How to prevent object
   * overwrites with conditional writes"). With `auditRetention` the object is locked until then.
   */
  async keepJson(key: string, value: unknown): Promise<'written' | 'exists'> {
    const retention = this.retention;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
          IfNoneMatch: '*',
          ...this.encryption,
          ...(retention
            ? {
                ObjectLockMode: retention.mode,
                ObjectLockRetainUntilDate: new Date(Date.now() + retention.days * 86_400_000),
              }
            : {}),
        }),
      );
      return 'written';
    } catch (err) {
      const status = (err as AwsLikeError).$metadata?.httpStatusCode;
      if (status === 412) return 'exists';
      // 409: another conditional write to the key was under way; S3 asks for a retry, which then finds
      // the object written (412) or writes it.
      if (status === 409) {
        throw new StageUnavailableError(
          `S3 refused to write ${key} in bucket ${this.bucket} while another write to it was under way (409 ConditionalRequestConflict); the step will retry`,
          { cause: err },
        );
      }
      throw this.translate(err, `write ${key} once`);
    }
  }

  async getJson<T>(key: string): Promise<T | null> {
    let text: string;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = (await res.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if ((err as AwsLikeError).name === 'NoSuchKey') return null;
      throw this.translate(err, `read ${key}`);
    }
    return JSON.parse(text) as T;
  }

  async getJsonTagged<T>(key: string): Promise<Tagged<T> | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = (await res.Body?.transformToString('utf8')) ?? '';
      if (res.ETag === undefined) throw new StageUnavailableError(`S3 answered ${key} without an ETag`);
      return { value: JSON.parse(text) as T, etag: res.ETag };
    } catch (err) {
      if ((err as AwsLikeError).name === 'NoSuchKey') return null;
      throw this.translate(err, `read ${key}`);
    }
  }

  /**
   * A compare-and-swap on `key` (S3 User Guide, "How to prevent object overwrites with conditional
   * writes"): `If-Match` with the ETag read, or `If-None-Match: *` for the first write. S3 answers 412
   * when the object changed or appeared, 404 when an `If-Match` finds it deleted, and 409 while another
   * conditional write is under way; each means the caller's read is stale, so it reads again.
   */
  async putJsonIf(
    key: string,
    value: unknown,
    expected: { readonly etag: string } | null,
  ): Promise<string | 'conflict'> {
    try {
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
          ...(expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected.etag }),
          ...this.encryption,
        }),
      );
      if (res.ETag === undefined)
        throw new StageUnavailableError(`S3 wrote ${key} without answering its ETag`);
      return res.ETag;
    } catch (err) {
      const e = err as AwsLikeError;
      const status = e.$metadata?.httpStatusCode;
      if (status === 412 || status === 409 || (expected !== null && e.name === 'NoSuchKey'))
        return 'conflict';
      throw this.translate(err, `write ${key} if unchanged`);
    }
  }

  /** Every key under `prefix`, in S3's (lexicographic) order. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, Prefix: prefix },
      )) {
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      }
    } catch (err) {
      throw this.translate(err, `list ${prefix}`);
    }
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let failed: string[];
      try {
        const res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        failed = (res.Errors ?? []).map((e) => `${e.Key}: ${e.Code ?? e.Message ?? 'error'}`);
      } catch (err) {
        throw this.translate(err, `delete ${batch.length} object(s)`);
      }
      if (failed.length > 0) {
        throw new StageUnavailableError(
          `S3 did not delete ${failed.length} object(s) in bucket ${this.bucket} (${failed.slice(0, 3).join('; ')}); the step will retry`,
        );
      }
    }
  }

  /** Maps an S3 or network failure to a named error that says what to fix; anything else passes through. */
  private translate(err: unknown, action: string): unknown {
    if (err instanceof TallyError) return err;
    const e = err as AwsLikeError;
    const name = e?.name ?? '';
    const status = e?.$metadata?.httpStatusCode;
    if (name === 'NoSuchBucket') {
      return new InvalidConfigError(
        `S3 bucket ${this.bucket} does not exist at ${this.where} (${action}): check s3.bucket and s3.region, or create the bucket`,
        { cause: err },
      );
    }
    if (DENIED_NAMES.has(name) || status === 403) {
      return new InvalidConfigError(
        `S3 denied access to bucket ${this.bucket} (${action}: ${name || status}): check the S3 credentials and that the role's policy allows this action on the bucket`,
        { cause: err },
      );
    }
    const code = e?.code ?? '';
    if (NETWORK_CODES.has(code) || UNAVAILABLE_NAMES.has(name) || (status !== undefined && status >= 500)) {
      return new StageUnavailableError(
        `S3 at ${this.where} could not be reached (${action}: ${code || name || status}): check s3.endpoint and s3.region and that S3 is reachable (from a VPC: a NAT route or an S3 gateway endpoint); the step will retry`,
        { cause: err },
      );
    }
    return err;
  }
}
