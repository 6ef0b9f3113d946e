import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, S3Stage } from '../../lambdas/adapters/s3';
import { freePort } from '../../local/free-port';
import { getObject, s3Config } from '../support/postgres';

const PREFIX = 's3-stage-test';

/** A client that records the server-side encryption headers of every request it sends. */
function observedClient(overrides: Record<string, unknown> = {}): {
  client: S3Client;
  writes: { command: string; sse?: string; kmsKey?: string }[];
} {
  const client = createS3Client(s3Config(overrides));
  const writes: { command: string; sse?: string; kmsKey?: string }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      writes.push({
        command: String(context.commandName),
        ...(headers['x-amz-server-side-encryption'] !== undefined
          ? { sse: headers['x-amz-server-side-encryption'] }
          : {}),
        ...(headers['x-amz-server-side-encryption-aws-kms-key-id'] !== undefined
          ? { kmsKey: headers['x-amz-server-side-encryption-aws-kms-key-id'] }
          : {}),
      });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordEncryptionHeaders' },
  );
  return { client, writes };
}

/** A body that yields `before` bytes in chunks, then fails. */
function failingBody(before: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= before) {
        this.destroy(new Error('the producer failed mid-stream'));
        return;
      }
      const chunk = randomBytes(Math.min(256 * 1024, before - sent));
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

/** Feeds a buffer in uneven chunks, as a stream of unknown length. */
function streamOf(data: Buffer, chunk = 100_003): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      this.push(data.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
}

let raw: S3Client;
let stage: S3Stage;
beforeAll(() => {
  raw = createS3Client(s3Config());
  stage = new S3Stage(s3Config(), raw);
});

describe('S3Stage.upload', () => {
  it('stores a small streamed body byte for byte', async () => {
    const data = Buffer.from('id,name\n1,"a ""quoted"" name, with comma"\n2,ünïcode\n');
    const result = await stage.upload(`${PREFIX}/small.csv`, streamOf(data, 7), 'text/csv');
    expect(result).toEqual({ key: `${PREFIX}/small.csv`, bytes: data.length });
    expect((await getObject(raw, stage.bucket, `${PREFIX}/small.csv`)).equals(data)).toBe(true);
  });

  it('stores a multi-megabyte body through multipart upload byte for byte', async () => {
    const data = randomBytes(19 * 1024 * 1024 + 12_345);
    const result = await stage.upload(`${PREFIX}/large.bin`, streamOf(data));
    expect(result.bytes).toBe(data.length);
    expect((await getObject(raw, stage.bucket, `${PREFIX}/large.bin`)).equals(data)).toBe(true);
  });

  it('overwrites the same key on a retry instead of adding an object', async () => {
    await stage.upload(`${PREFIX}/retry/part-00000.csv.gz`, streamOf(Buffer.from('first attempt')));
    await stage.upload(`${PREFIX}/retry/part-00000.csv.gz`, streamOf(Buffer.from('second')));
    expect(await stage.list(`${PREFIX}/retry/`)).toEqual([`${PREFIX}/retry/part-00000.csv.gz`]);
    expect((await getObject(raw, stage.bucket, `${PREFIX}/retry/part-00000.csv.gz`)).toString()).toBe(
      'second',
    );
  });

  it('leaves no object when the body fails after multipart parts were sent', async () => {
    const key = `${PREFIX}/failed/large.bin`;
    await expect(stage.upload(key, failingBody(20 * 1024 * 1024))).rejects.toThrow(
      'the producer failed mid-stream',
    );
    expect(await stage.list(`${PREFIX}/failed/`)).toEqual([]);
  });

  it('leaves no object when the body fails before its first part is complete', async () => {
    const key = `${PREFIX}/failed-early/small.bin`;
    await expect(stage.upload(key, failingBody(1000))).rejects.toThrow('the producer failed mid-stream');
    expect(await stage.list(`${PREFIX}/failed-early/`)).toEqual([]);
  });

  it('requests SSE-S3 encryption on every write', async () => {
    const { client, writes } = observedClient();
    const observed = new S3Stage(s3Config(), client);
    await observed.upload(`${PREFIX}/sse/large.bin`, streamOf(randomBytes(9 * 1024 * 1024)));
    await observed.upload(`${PREFIX}/sse/small.bin`, streamOf(Buffer.from('x')));
    await observed.putJson(`${PREFIX}/sse/event.json`, { ok: true });
    const creating = writes.filter((w) =>
      ['CreateMultipartUploadCommand', 'PutObjectCommand'].includes(w.command),
    );
    expect(creating.map((w) => w.command).sort()).toEqual([
      'CreateMultipartUploadCommand',
      'PutObjectCommand',
      'PutObjectCommand',
    ]);
    for (const w of creating) expect(w.sse).toBe('AES256');
  });

  it('requests SSE-KMS with the configured key when one is set', async () => {
    const { client, writes } = observedClient({ kmsKeyId: 'alias/tally-test' });
    const observed = new S3Stage(s3Config({ kmsKeyId: 'alias/tally-test' }), client);
    await observed.putJson(`${PREFIX}/kms/event.json`, { ok: true });
    expect(writes.find((w) => w.command === 'PutObjectCommand')).toMatchObject({
      sse: 'aws:kms',
      kmsKey: 'alias/tally-test',
    });
  });
});

describe('S3Stage objects', () => {
  it('writes JSON and reads it back, and reads a missing key as null', async () => {
    const value = { event: 'success', rows: 12, nested: { text: 'é, "q"' } };
    await stage.putJson(`${PREFIX}/json/a.json`, value);
    expect(await stage.getJson(`${PREFIX}/json/a.json`)).toEqual(value);
    expect(await stage.getJson(`${PREFIX}/json/missing.json`)).toBeNull();
  });

  it('lists keys under a prefix only, and deletes the ones given', async () => {
    for (const k of ['b', 'a', 'c']) await stage.putJson(`${PREFIX}/list/${k}.json`, k);
    await stage.putJson(`${PREFIX}/listing-not-this.json`, 'x');
    expect(await stage.list(`${PREFIX}/list/`)).toEqual(
      ['a', 'b', 'c'].map((k) => `${PREFIX}/list/${k}.json`),
    );
    await stage.delete([`${PREFIX}/list/a.json`, `${PREFIX}/list/c.json`, `${PREFIX}/list/never-there.json`]);
    expect(await stage.list(`${PREFIX}/list/`)).toEqual([`${PREFIX}/list/b.json`]);
    await stage.delete([]);
  });
});

describe('S3Stage errors', () => {
  it('names an unreachable S3 as transient and says what to check', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const down = new S3Stage(s3Config({ endpoint }));
    const unavailable = {
      name: 'StageUnavailableError',
      transient: true,
      message: expect.stringMatching(
        new RegExp(`S3 at ${endpoint} could not be reached.*check s3\\.endpoint`),
      ),
    };
    await expect(down.upload(`${PREFIX}/down/x.bin`, streamOf(Buffer.from('x')))).rejects.toMatchObject(
      unavailable,
    );
    await expect(down.list(`${PREFIX}/down/`)).rejects.toMatchObject(unavailable);
    await expect(down.putJson(`${PREFIX}/down/x.json`, 1)).rejects.toMatchObject(unavailable);
    expect(await stage.list(`${PREFIX}/down/`)).toEqual([]);
  });

  it('names a missing bucket as a configuration error naming the bucket', async () => {
    const missing = new S3Stage(s3Config({ bucket: 'no-such-bucket-here' }));
    const refused = {
      name: 'InvalidConfigError',
      transient: false,
      message: expect.stringMatching(/bucket no-such-bucket-here does not exist.*check s3\.bucket/),
    };
    await expect(missing.upload('x/part-00000.csv.gz', streamOf(Buffer.from('x')))).rejects.toMatchObject(
      refused,
    );
    await expect(missing.list('x/')).rejects.toMatchObject(refused);
  });
});
