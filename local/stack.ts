// The embedded defaults together: PostgreSQL, the S3 stand-in (and the Snowflake stand-in once added),
// started side by side and described by one JSON object that clients and tests read.
import { startPostgres } from './postgres';
import { startS3 } from './s3';

export interface StackInfo {
  readonly postgres: { readonly url: string };
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly forcePathStyle: true;
  };
}

export interface LocalStack {
  readonly info: StackInfo;
  stop(): Promise<void>;
}

export async function startLocalStack(): Promise<LocalStack> {
  const started: { stop(): Promise<void> }[] = [];
  try {
    const track = <T extends { stop(): Promise<void> }>(part: T): T => {
      started.push(part);
      return part;
    };
    const [postgres, s3] = await Promise.all([startPostgres().then(track), startS3().then(track)]);
    const info: StackInfo = {
      postgres: { url: postgres.url },
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        bucket: s3.bucket,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      },
    };
    return { info, stop: () => stopAll(started) };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

async function stopAll(parts: { stop(): Promise<void> }[]): Promise<void> {
  await Promise.allSettled(parts.reverse().map((p) => p.stop()));
}
