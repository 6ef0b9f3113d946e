// The S3 stand-in: an S3-compatible server (`fauxqs`) on a free loopback port, with Tally's bucket made.
// Production's S3 client reaches it with only endpoint, credentials and path style changed.
import { startFauxqs } from 'fauxqs';
import { freePort } from './free-port';

export interface LocalS3 {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle: true;
  stop(): Promise<void>;
}

export async function startS3(options: { bucket?: string } = {}): Promise<LocalS3> {
  const bucket = options.bucket ?? 'tally-local';
  const port = await freePort();
  const server = await startFauxqs({ port, host: '127.0.0.1', logger: false });
  server.createBucket(bucket);
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    region: 'us-east-1',
    bucket,
    accessKeyId: 'tally-local',
    secretAccessKey: 'tally-local-secret',
    forcePathStyle: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
