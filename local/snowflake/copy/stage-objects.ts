// The files under an external stage's s3:// URL, read from the S3 stand-in: listing them (all under a
// path, the FILES named or those matching PATTERN) and downloading one (Snowflake's COPY file selection).
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../../lambdas/adapters/s3';
import type { EngineOptions } from '../engine-types';
import { SnowflakeSqlError } from '../engine-types';

export interface StagedObject {
  readonly key: string;
  readonly url: string;
  readonly etag: string;
  readonly size: number;
}

/** Which of the stage's files a COPY reads: FILES wins over PATTERN; neither means all under the path. */
export interface ObjectSelection {
  readonly subPath: string;
  readonly files: readonly string[] | undefined;
  readonly pattern: string | undefined;
}

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url) as RegExpExecArray;
  return { bucket: m[1] as string, prefix: m[2] ?? '' };
}

function joinKey(base: string, name: string): string {
  if (!base) return name;
  return base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}

function stageAccessError(url: string, err: unknown): SnowflakeSqlError {
  const reason = err instanceof Error ? err.name : 'unknown error';
  return new SnowflakeSqlError(
    '091003',
    '22000',
    `Failure using stage area. Cause: [${reason}] reading ${url}`,
  );
}

/** One stage's bucket and prefix, reached with the stand-in's own S3 connection; close it when done. */
export class StageObjects {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    connection: EngineOptions['s3'],
    private readonly stageUrl: string,
  ) {
    const { bucket, prefix } = parseS3Url(stageUrl);
    this.bucket = bucket;
    this.prefix = prefix;
    this.s3 = createS3Client({ ...connection, bucket, prefix });
  }

  async select({ subPath, files, pattern }: ObjectSelection): Promise<StagedObject[]> {
    const { bucket, prefix } = this;
    const base = subPath ? joinKey(prefix, subPath) : prefix;
    const listed: StagedObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          listed.push({
            key: o.Key,
            url: `s3://${bucket}/${o.Key}`,
            etag: (o.ETag ?? '').replace(/"/g, ''),
            size: Number(o.Size ?? 0),
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw stageAccessError(this.stageUrl, err);
    }
    if (files) {
      return files.map((name) => {
        const key = joinKey(base, name);
        const found = listed.find((o) => o.key === key);
        if (!found) {
          throw new SnowflakeSqlError(
            '091016',
            '22000',
            `Remote file 's3://${bucket}/${key}' was not found. Check the file name and the stage location.`,
          );
        }
        return found;
      });
    }
    if (pattern) {
      const re = new RegExp(`^(?:${pattern})$`);
      return listed.filter(
        (o) => re.test(o.key) || re.test(o.key.slice(prefix.length)) || re.test(o.key.slice(base.length)),
      );
    }
    return listed;
  }

  async download(key: string, file: string): Promise<void> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      await pipeline(object.Body as Readable, createWriteStream(file));
    } catch (err) {
      throw stageAccessError(`s3://${this.bucket}/${key}`, err);
    }
  }

  close(): void {
    this.s3.destroy();
  }
}
