// The embedded defaults together: PostgreSQL, the S3 stand-in and the Snowflake stand-in, started side by
// side and described by one JSON object that clients and tests read.
import { type LocalPostgres, startPostgres } from './postgres';
import { type LocalS3, startS3 } from './s3';
import { type LocalSnowflake, startSnowflake } from './snowflake';

/** Where each embedded server is and how to sign in to it: what clients and tests need, nothing to stop. */
export interface StackInfo {
  readonly postgres: Pick<LocalPostgres, 'url'>;
  readonly s3: Omit<LocalS3, 'stop'>;
  /** What snowflake-sdk needs to reach the stand-in: only `accessUrl` differs from a real account. */
  readonly snowflake: Pick<LocalSnowflake, (typeof SNOWFLAKE_FIELDS)[number]>;
}

const SNOWFLAKE_FIELDS = [
  'accessUrl',
  'account',
  'username',
  'password',
  'database',
  'schema',
  'warehouse',
  'role',
] as const;

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
    const { stop: _stop, ...s3Info } = s3;
    const snowflake = await startSnowflake({ s3: s3Info }).then(track);
    const info: StackInfo = {
      postgres: { url: postgres.url },
      s3: s3Info,
      snowflake: Object.fromEntries(SNOWFLAKE_FIELDS.map((f) => [f, snowflake[f]])) as StackInfo['snowflake'],
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
