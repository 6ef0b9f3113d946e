// A fault at the stage: the S3 stand-in failing in the middle of an upload.
import { describe, expect, it } from 'vitest';
import { eventTypes, rigForFile } from '../support/faults/rig';
import { breakingUpload } from '../support/faults/stage-faults';

const file = rigForFile();

describe('the S3 stand-in failing mid-upload', () => {
  it('retries the export and loads every row once, with no stale or duplicate rows', async () => {
    const s = await file.scenario('s3', 20);
    const historical = await s.run({ pipeline: 'historical' });
    expect(historical.status).toBe('succeeded');
    const before = await s.watermark();
    await s.insertRows(8);
    const flaky = breakingUpload(0);
    const run = await s.run({ pipeline: 'incremental' }, { wrapPorts: flaky.wrapPorts });
    expect(run.status).toBe('succeeded');
    expect(flaky.uploads()).toBe(2);
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
