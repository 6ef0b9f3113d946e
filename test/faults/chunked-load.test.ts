// A historical load split into chunks, through the whole synthesized definition run locally (its
// Distributed Map read from the item file in the S3 stand-in and run inline): the ledger of each chunk and
// of the whole table, the copy swapped in, the first incremental window below every chunk's snapshot, and
// the fault suite's scenarios on a chunked load: a chunk's export cut mid-way, S3 failing mid-upload,
// Snowflake down at load. Every scenario ends with zero rows lost or duplicated.
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StageUnavailableError, WarehouseUnavailableError } from '../../lambdas/domain/errors';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { chunkItemsKey } from '../../lambdas/steps/chunks';
import { ROUTING_STATE } from '../../lib/transfer-definition';
import { eventTypes, rigForFile, type Scenario } from '../support/faults/rig';
import { wrapping } from '../support/port-overrides';

const file = rigForFile();

/** 40 rows in chunks of 10: the table (never analyzed) is taken to hold one row per key, so 4 chunks. */
const ROWS = 40;
const CHUNK_ROWS = 10;
const chunked = (tag: string, rows = ROWS): Promise<Scenario> =>
  file.scenario(tag, rows, { chunkRows: CHUNK_ROWS });

/** The chunk items the Distributed Map read for a job, from the stage. */
async function chunkItemsOf(s: Scenario, jobId: string): Promise<unknown[] | null> {
  const stage = LOCAL_ADAPTERS.stage(s.config);
  return stage.getJson<unknown[]>(chunkItemsKey({ config: s.config }, { jobId, table: 'public.items' }));
}

describe('a chunked historical load, through the whole definition', () => {
  it('exports each chunk in its own snapshot, swaps the loaded copy in, closes the ledger, and the first incremental run starts below the earliest chunk bound', async () => {
    const s = await chunked('chunks');
    const exports: string[] = [];
    const historical = await s.run(
      { pipeline: 'historical' },
      { at: (p) => p.phase === 'succeeded' && exports.push(p.state) },
    );
    expect(historical.status).toBe('succeeded');
    expect(exports.filter((state) => state === 'ExportChunk')).toHaveLength(4);
    expect(exports).not.toContain('ExportToS3');
    expect(exports).toContain('GatherChunks');
    const events = await s.auditOf(historical.executionId);
    expect(eventTypes(events)).toEqual(['start', 'success']);
    const success = events[1]!;
    expect(success).toMatchObject({
      recordCountBefore: ROWS,
      rowsExported: ROWS,
      rowsParsed: ROWS,
      rowsLoaded: ROWS,
      recordCountAfter: ROWS,
      countMatch: true,
      files: 4,
    });
    expect(await chunkItemsOf(s, success.jobId)).toEqual([
      { index: 0, from: null, to: '11' },
      { index: 1, from: '11', to: '21' },
      { index: 2, from: '21', to: '31' },
      { index: 3, from: '31', to: null },
    ]);
    await s.expectTargetEqualsSource();
    // The copy was swapped in and dropped: only the target is left.
    const tables = await s.targetSql('SHOW TERSE TABLES');
    expect(tables.map((t) => t.name).filter((n) => String(n).includes('ITEMS'))).toEqual(['ITEMS']);

    await s.insertRows(5);
    await s.updateRows(3);
    const next = await s.run({ pipeline: 'incremental' });
    expect(next.tables).toEqual([{ table: 'public.items', status: 'succeeded' }]);
    expect(next.status).toBe('succeeded');
    const [start] = await s.auditOf(next.executionId);
    expect(Date.parse(start!.windowStart!)).toBeLessThan(Date.parse(success.windowEnd!));
    await s.expectTargetEqualsSource();
  }, 120_000);

  it('keeps the target as it was when a chunk does not load, and reloads every row once on the next run', async () => {
    const s = await chunked('chunkbad');
    const first = await s.run({ pipeline: 'historical' });
    expect(first.status).toBe('succeeded');
    await s.insertRows(4);
    let swapped = 0;
    const refusing = wrapping({
      warehouse: (w) => ({
        swapInCopy: async () => {
          swapped++;
          throw new (await import('../../lambdas/domain/errors')).CountMismatchError(
            'the loaded copy holds fewer rows than its chunks (injected)',
          );
        },
        loadCopy: (...args: Parameters<typeof w.loadCopy>) => w.loadCopy(...args),
      }),
    });
    const failed = await s.run({ pipeline: 'historical' }, { wrapPorts: refusing });
    expect(failed.status).toBe('failed');
    expect(swapped).toBe(1);
    expect(failed.alertLines).toHaveLength(1);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events)).toEqual(['start', 'failure', 'alert']);
    expect(events[1]).toMatchObject({ errorType: 'CountMismatchError', countMatch: false });
    // The target still holds the first load's rows, none of the half-loaded copy's.
    expect((await s.targetSql('SELECT COUNT(*) AS N FROM ITEMS'))[0]?.N).toBe(ROWS);
    const again = await s.run({ pipeline: 'historical' });
    expect(again.status).toBe('succeeded');
    await s.expectTargetEqualsSource();
  }, 120_000);
});

describe('the fault suite on a chunked historical load', () => {
  it('retries a chunk whose PostgreSQL connection is cut mid-export, and loads every row once', async () => {
    const s = await chunked('chunkcut', 400);
    const brokenBefore = file.rig.postgres.stats.broken;
    let cut = false;
    const run = await s.run(
      { pipeline: 'historical' },
      {
        at: (p) => {
          // Some 100 rows a chunk: the cut lands in the middle of the second chunk's COPY data.
          if (!cut && p.state === 'ExportChunk' && p.phase === 'started') {
            cut = true;
            file.rig.postgres.cut({ direction: 'toClient', after: 3_000, times: 1 });
          }
        },
      },
    );
    expect(file.rig.postgres.stats.broken).toBe(brokenBefore + 1);
    expect(run.status).toBe('succeeded');
    expect(run.alertLines).toEqual([]);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[1]).toMatchObject({
      status: 'RETRYING',
      errorMessage: expect.stringMatching(/^ExportChunk is running again/),
    });
    expect(events[2]).toMatchObject({
      rowsExported: 400,
      rowsLoaded: 400,
      recordCountAfter: 400,
      countMatch: true,
    });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it('retries a chunk whose upload breaks mid-way, and leaves no stale or duplicate row', async () => {
    const s = await chunked('chunks3');
    let uploads = 0;
    const flaky = wrapping({
      stage: (stage) => ({
        upload: (key: string, body: Readable, contentType?: string) =>
          stage.upload(key, uploads++ === 1 ? breakingAfterFirstChunk(body) : body, contentType),
      }),
    });
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: flaky });
    expect(run.status).toBe('succeeded');
    expect(uploads).toBe(5);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ files: 4, rowsExported: ROWS, rowsLoaded: ROWS, countMatch: true });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it('retries the load of the chunks when Snowflake is down once, and loads every row exactly once', async () => {
    const s = await chunked('chunksf');
    let refused = 0;
    const once = wrapping({
      warehouse: (w) => ({
        loadCopy: async (...args: Parameters<typeof w.loadCopy>) => {
          if (refused++ === 0)
            throw new WarehouseUnavailableError('Snowflake could not be reached (injected at load)');
          return w.loadCopy(...args);
        },
      }),
    });
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: once });
    expect(run.status).toBe('succeeded');
    expect(refused).toBe(2);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({
      retryCount: 1,
      rowsLoaded: ROWS,
      recordCountAfter: ROWS,
      countMatch: true,
    });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it(`fails the table at ${ROUTING_STATE.exportChunks} with one alert when a chunk cannot be exported, and the target keeps its rows`, async () => {
    const s = await chunked('chunkdown');
    const first = await s.run({ pipeline: 'historical' });
    expect(first.status).toBe('succeeded');
    const down = wrapping({
      source: (source) => ({
        export: async (...args: Parameters<typeof source.export>) => {
          if (args[1].kind === 'keys' && args[1].range.from === '21') {
            throw new StageUnavailableError('S3 unreachable for this chunk (injected)');
          }
          return source.export(...args);
        },
      }),
    });
    const failed = await s.run({ pipeline: 'historical' }, { wrapPorts: down });
    expect(failed.status).toBe('failed');
    expect(failed.alertLines).toHaveLength(1);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events).filter((t) => t !== 'retry')).toEqual(['start', 'failure', 'alert']);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      errorType: 'StageUnavailableError',
      rowsLoaded: null,
    });
    await s.expectTargetEqualsSource();
  }, 120_000);
});

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
