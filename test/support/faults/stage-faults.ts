// A fault at the stage: one upload of a run breaking off mid-way, as a connection reset would.
import { PassThrough, type Readable } from 'node:stream';
import { StageUnavailableError } from '../../../lambdas/domain/errors';
import type { Ports } from '../../../lambdas/ports';
import { wrapping } from '../port-overrides';

/** Passes the body's first chunk on, then breaks off as a connection reset mid-upload would. */
export function breakingAfterFirstChunk(body: Readable): Readable {
  const out = new PassThrough();
  let chunks = 0;
  body.on('data', (chunk: Buffer) => {
    if (chunks++ === 0) {
      out.write(chunk);
      return;
    }
    body.destroy();
    out.destroy(new StageUnavailableError('S3 connection reset mid-upload (injected)'));
  });
  body.on('end', () => out.destroy(new StageUnavailableError('S3 connection reset mid-upload (injected)')));
  body.on('error', (err) => out.destroy(err));
  return out;
}

/**
 * Ports whose stage breaks the `nth` upload (0 for the first) mid-way; `uploads()` says how many
 * uploads were started, the broken one included.
 */
export function breakingUpload(nth: number): { wrapPorts: (ports: Ports) => Ports; uploads: () => number } {
  let uploads = 0;
  const wrapPorts = wrapping({
    stage: (stage) => ({
      upload: (key: string, body: Readable, contentType?: string) =>
        stage.upload(key, uploads++ === nth ? breakingAfterFirstChunk(body) : body, contentType),
    }),
  });
  return { wrapPorts, uploads: () => uploads };
}
