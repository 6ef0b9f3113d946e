// Network faults on the way to the source and the stage, through TCP proxies in front of the real
// PostgreSQL and S3 stand-in: PostgreSQL down at count, its connection cut in the middle of an export, the
// S3 stand-in failing mid-upload, and a source transaction that commits after its window closed.
import { describe, expect, it } from 'vitest';
import { eventTypes, rigForFile, TABLE } from '../support/faults/rig';

const file = rigForFile();

describe('PostgreSQL down at count', () => {
  it('retries the count until the attempts run out, fails with one alert, keeps the watermark, and catches up once PostgreSQL is back', async () => {
    const { s, watermark } = await file.loadedThenChanged('pgdown');
    const failed = await s.run(
      { pipeline: 'incremental' },
      {
        at: (p) => {
          if (p.state === 'CountSource' && p.phase === 'started' && p.attempt === 0) {
            file.rig.postgres.refuse('unlisten');
            file.rig.postgres.killAll();
          }
        },
      },
    );
    expect(failed.status).toBe('failed');
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'retry', 'retry', 'retry', 'failure', 'alert']);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      errorType: 'SourceUnavailableError',
      sourceTable: TABLE,
    });
    expect(failed.alertLines).toHaveLength(1);
    expect(await s.watermark()).toBe(watermark);
    expect((await s.undelivered()).length).toBe(8);
    await s.expectWatermarkBelowUndelivered();

    await file.rig.reset();
    const recovered = await s.run({ pipeline: 'incremental' });
    expect(recovered.status).toBe('succeeded');
    expect(recovered.alertLines).toEqual([]);
    expect(eventTypes(await s.auditOf(recovered.executionId))).toEqual(['start', 'success']);
    await s.expectTargetEqualsSource();
  });
});

describe('the PostgreSQL connection killed mid-export', () => {
  it('retries the export on a new connection, audits the retry, and loads every row once', async () => {
    const { s } = await file.loadedThenChanged('pgcut', 400);
    const brokenBefore = file.rig.postgres.stats.broken;
    const run = await s.run(
      { pipeline: 'incremental' },
      {
        at: (p) => {
          // The window still holds every row (they are younger than the lookback): the COPY streams far
          // more than this, so the cut lands in the middle of its data.
          if (p.state === 'ExportToS3' && p.phase === 'started' && p.attempt === 0) {
            file.rig.postgres.cut({ direction: 'toClient', after: 6_000, times: 1 });
          }
        },
      },
    );
    expect(file.rig.postgres.stats.broken).toBe(brokenBefore + 1);
    expect(run.status).toBe('succeeded');
    expect(run.alertLines).toEqual([]);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ countMatch: true, retryCount: 1 });
    expect(events[2]?.rowsExported).toBe(events[2]?.rowsLoaded);
    await s.expectTargetEqualsSource();

    const next = await s.run({ pipeline: 'incremental' });
    expect(next.status).toBe('succeeded');
    await s.expectTargetEqualsSource();
  });
});

describe('the S3 stand-in failing mid-upload', () => {
  it('fails the table after the retries with one alert while every upload breaks, keeps the watermark, then catches up', async () => {
    const { s, watermark } = await file.loadedThenChanged('s3cut', 200);
    const failed = await s.run(
      { pipeline: 'incremental' },
      {
        at: (p) => {
          // Only requests uploading exported part files break (matched on the request line, since audit
          // events name those keys in their bodies); the audit's own objects still get through.
          if (p.state === 'ExportToS3' && p.phase === 'started' && p.attempt === 0) {
            file.rig.s3.cut({
              direction: 'toServer',
              after: 400,
              when: /(?:PUT|POST) \S*part-\d+\.csv\.(?:gz|zst)/,
            });
          }
        },
      },
    );
    expect(failed.status).toBe('failed');
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'retry', 'retry', 'retry', 'failure', 'alert']);
    expect(events.find((e) => e.eventType === 'failure')?.errorType).toBe('StageUnavailableError');
    expect(failed.alertLines).toHaveLength(1);
    expect(await s.watermark()).toBe(watermark);
    await s.expectWatermarkBelowUndelivered();

    await file.rig.reset();
    const recovered = await s.run({ pipeline: 'incremental' });
    expect(recovered.status).toBe('succeeded');
    expect(eventTypes(await s.auditOf(recovered.executionId))).toEqual(['start', 'success']);
    await s.expectTargetEqualsSource();
  });
});

describe('a long-running source transaction that commits after its window closed', () => {
  it('keeps the watermark below the uncommitted row, and the next run after the commit delivers it', async () => {
    const { s } = await file.loadedThenChanged('longtx');
    const open = await s.client();
    try {
      await open.query('BEGIN');
      // Stamped with the transaction's start, which will lie inside the next run's window by the time
      // the row becomes visible.
      await open.query(`INSERT INTO items (id, name, amount) VALUES (100000, 'late row', 1)`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const during = await s.run({ pipeline: 'incremental' });
      expect(during.status).toBe('succeeded');
      expect(eventTypes(await s.auditOf(during.executionId))).toEqual(['start', 'success']);
      await open.query('COMMIT');
    } finally {
      await open.end();
    }
    expect((await s.undelivered()).map((r) => r.id)).toEqual(['100000']);
    await s.expectWatermarkBelowUndelivered();

    const after = await s.run({ pipeline: 'incremental' });
    expect(after.status).toBe('succeeded');
    expect(after.alertLines).toEqual([]);
    await s.expectTargetEqualsSource();
  });
});
