// The S3 stand-in's conditional PutObject against the S3 User Guide, through the SDK the product uses: the
// audit writer's chain tail is a compare-and-swap on these answers, so the stand-in must be no laxer than
// S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). What the guide does
// not describe is refused, never ignored.
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../lambdas/adapters/s3';
import { s3Config } from '../support/postgres';

const CONDITIONAL_WRITES = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html';

const config = s3Config();
const client = createS3Client(config);
const Bucket = config.bucket;
const run = randomBytes(3).toString('hex');
let n = 0;
const freshKey = () => `conformance-s3-${run}/object-${++n}.json`;

async function put(Key: string, Body: string, extra: Partial<PutObjectCommandInput> = {}) {
  return client.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
}

async function body(Key: string): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket, Key }));
  return (await res.Body?.transformToString('utf8')) ?? '';
}

/** The status and S3 error code a request fails with. */
async function failure(request: Promise<unknown>): Promise<{ status?: number; code: string }> {
  try {
    await request;
  } catch (err) {
    if (err instanceof S3ServiceException) return { status: err.$metadata.httpStatusCode, code: err.name };
    throw err;
  }
  throw new Error('the request succeeded');
}

describe('If-None-Match on PutObject', () => {
  it(`writes a key that does not exist (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const res = await put(key, 'first', { IfNoneMatch: '*' });
    expect(res.ETag).toMatch(/^"[0-9a-f]+"$/);
    expect(await body(key)).toBe('first');
  });

  it(`fails with 412 PreconditionFailed when the key exists, leaving the object as it was (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    await put(key, 'first');
    expect(await failure(put(key, 'second', { IfNoneMatch: '*' }))).toEqual({
      status: 412,
      code: 'PreconditionFailed',
    });
    expect(await body(key)).toBe('first');
  });

  it(`is refused with 501 for a value other than *, which the guide requires (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const { ETag } = await put(key, 'first');
    expect(await failure(put(key, 'second', { IfNoneMatch: ETag }))).toEqual({
      status: 501,
      code: 'NotImplemented',
    });
    expect(await body(key)).toBe('first');
  });
});

describe('If-Match on PutObject', () => {
  it(`replaces the object when its ETag matches, and answers the new ETag (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const { ETag } = await put(key, 'first');
    const res = await put(key, 'second', { IfMatch: ETag });
    expect(res.ETag).not.toBe(ETag);
    expect(await body(key)).toBe('second');
    const read = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(read.ETag).toBe(res.ETag);
  });

  it(`fails with 412 PreconditionFailed when the ETag differs, leaving the object as it was (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const { ETag: old } = await put(key, 'first');
    await put(key, 'second', { IfMatch: old });
    expect(await failure(put(key, 'third', { IfMatch: old }))).toEqual({
      status: 412,
      code: 'PreconditionFailed',
    });
    expect(await body(key)).toBe('second');
  });

  it(`fails with 404 NoSuchKey when no object has the key, writing nothing (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    expect(await failure(put(key, 'first', { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({
      status: 404,
      code: 'NoSuchKey',
    });
    expect(await failure(body(key))).toEqual({ status: 404, code: 'NoSuchKey' });
  });

  it(`lets exactly one of several writes from the same ETag through (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const { ETag } = await put(key, 'start');
    const writes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => put(key, `writer ${i}`, { IfMatch: ETag })),
    );
    const won = writes.flatMap((w, i) => (w.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect(await body(key)).toBe(`writer ${won[0]}`);
  });

  it(`is refused with 501 for *, which the guide does not describe for a write (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    await put(key, 'first');
    expect(await failure(put(key, 'second', { IfMatch: '*' }))).toEqual({
      status: 501,
      code: 'NotImplemented',
    });
    expect(await body(key)).toBe('first');
  });
});

describe('conditional headers the stand-in does not implement', () => {
  it(`refuse a write with both If-Match and If-None-Match (${CONDITIONAL_WRITES})`, async () => {
    const key = freshKey();
    const { ETag } = await put(key, 'first');
    expect(await failure(put(key, 'second', { IfMatch: ETag, IfNoneMatch: '*' }))).toEqual({
      status: 501,
      code: 'NotImplemented',
    });
    expect(await body(key)).toBe('first');
  });

  it(`refuse CopyObject and CompleteMultipartUpload with If-None-Match rather than ignore it (${CONDITIONAL_WRITES})`, async () => {
    const source = freshKey();
    const target = freshKey();
    await put(source, 'source');
    await put(target, 'target');
    expect(
      await failure(
        client.send(
          new CopyObjectCommand({ Bucket, Key: target, CopySource: `${Bucket}/${source}`, IfNoneMatch: '*' }),
        ),
      ),
    ).toEqual({ status: 501, code: 'NotImplemented' });
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: target }));
    const part = await client.send(
      new UploadPartCommand({ Bucket, Key: target, UploadId, PartNumber: 1, Body: 'part' }),
    );
    expect(
      await failure(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: target,
            UploadId,
            IfNoneMatch: '*',
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        ),
      ),
    ).toEqual({ status: 501, code: 'NotImplemented' });
    expect(await body(target)).toBe('target');
  });
});
