// The embedded defaults together: PostgreSQL, the S3 stand-in and the Snowflake stand-in, started side by
// side and described by one JSON object that clients and tests read.
import { startPostgres } from './postgres';
import { startS3 } from './s3';
import { startSnowflake } from './snowflake';

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
  /** What snowflake-sdk needs to reach the stand-in: only `accessUrl` differs from a real account. */
  readonly snowflake: {
    readonly accessUrl: string;
    readonly account: string;
    readonly username: string;
    readonly password: string;
    readonly database: string;
    readonly schema: string;
    readonly warehouse: string;
    readonly role: string;
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
    // The Snowflake stand-in reads staged files from the S3 stand-in, so it starts after it.
    const snowflake = await startSnowflake({
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        forcePathStyle: true,
      },
    }).then(track);
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
      snowflake: {
        accessUrl: snowflake.accessUrl,
        account: snowflake.account,
        username: snowflake.username,
        password: snowflake.password,
        database: snowflake.database,
        schema: snowflake.schema,
        warehouse: snowflake.warehouse,
        role: snowflake.role,
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
