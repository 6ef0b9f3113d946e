// A fault at the stage: the S3 stand-in failing in the middle of an upload.
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StageUnavailableError } from '../../lambdas/domain/errors';
import { eventTypes, rigForFile } from '../support/faults/rig';
import { wrapping } from '../support/port-overrides';

const file = rigForFile();

/** Passes the body's first chunk on, then breaks off as a connection reset mid-upload would. */
function breakingAfterFirstChunk(body: Readable): Readable {
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

describe('the S3 stand-in failing mid-upload', () => {
  it('retries the export and loads every row once, with no stale or duplicate rows', async () => {
    const s = await file.scenario('s3', 20);
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const before = await s.watermark();
    await s.insertRows(8);
    let uploads = 0;
    const flaky = wrapping({
      stage: (stage) => ({
        upload: (key: string, body: Readable, contentType?: string) =>
          stage.upload(key, uploads++ === 0 ? breakingAfterFirstChunk(body) : body, contentType),
      }),
    });
    const run = await s.run({ pipeline: 'incremental' }, { wrapPorts: flaky });
    expect(run.status).toBe('succeeded');
    expect(uploads).toBe(2);
    expect(run.alertLines).toEqual([]);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[1]).toMatchObject({ status: 'RETRYING', retryCount: 1 });
    // Every row of the window once: 20 loaded before plus 8 new, all inside the lookback.
    expect(events[2]).toMatchObject({ files: 1, rowsExported: 28, rowsLoaded: 28, countMatch: true });
    expect(Date.parse((await s.watermark())!)).toBeGreaterThan(Date.parse(before!));
    await s.expectTargetEqualsSource();
  }, 60_000);
});
