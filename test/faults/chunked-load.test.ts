// A historical load split into chunks, through the whole synthesized definition run locally (its two
// Distributed Maps read from the item file in the S3 stand-in and run inline): the ledger of each chunk and
// of the whole table, the copy swapped in once, the first incremental window below every chunk's snapshot,
// and the fault suite's scenarios on a chunked load, for a bigint key and for a composite key led by a text
// column: a chunk's export cut mid-way, S3 failing mid-upload, Snowflake down at load, a chunk's COPY
// committed and its answer lost, the swap done and its answer lost. Every scenario ends with zero rows
// lost or duplicated.
import { describe, expect, it } from 'vitest';
import {
  CountMismatchError,
  LoadIncompleteError,
  StageUnavailableError,
  WarehouseUnavailableError,
} from '../../lambdas/domain/errors';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { chunkItemsKey, chunkLoadKey } from '../../lambdas/steps/chunks';
import { ROUTING_STATE } from '../../lib/transfer-definition';
import { eventTypes, type KeyShape, leadingKey, rigForFile, type Scenario } from '../support/faults/rig';
import { breakingUpload } from '../support/faults/stage-faults';
import { wrapping } from '../support/port-overrides';

const file = rigForFile();

/** 40 rows in chunks of 10: the analyzed table's histogram holds every key, so 4 chunks. */
const ROWS = 40;
const CHUNK_ROWS = 10;
const chunked = (tag: string, key: KeyShape, rows = ROWS): Promise<Scenario> =>
  file.scenario(`${tag}${key === 'bigint' ? '' : 'c'}`, rows, { chunkRows: CHUNK_ROWS }, key);

/** A JSON object the run left in the stage under one of its job's keys. */
async function stageJson<T>(s: Scenario, key: (deps: { config: Scenario['config'] }) => string) {
  return LOCAL_ADAPTERS.stage(s.config).getJson<T>(key({ config: s.config }));
}

const KEYS: readonly KeyShape[] = ['bigint', 'composite'];

/**
 * Ports whose `nth` chunk load (0 for the first) fails as Snowflake unreachable, `before` its COPY runs
 * or `after` it committed (the answer lost); `calls()` counts the loads asked for.
 */
function chunkLoadFailingOnce(nth: number, when: 'before' | 'after') {
  let calls = 0;
  const wrapPorts = wrapping({
    warehouse: (w) => ({
      loadIntoCopy: async (...args: Parameters<typeof w.loadIntoCopy>) => {
        const failing = calls++ === nth;
        if (failing && when === 'before')
          throw new WarehouseUnavailableError('Snowflake down at load (injected)');
        const result = await w.loadIntoCopy(...args);
        if (failing) throw new WarehouseUnavailableError('connection lost after the COPY (injected)');
        return result;
      },
    }),
  });
  return { wrapPorts, calls: () => calls };
}

describe.each(KEYS)(
  'a chunked historical load of a table with a %s key, through the whole definition',
  (key) => {
    it('exports and loads each chunk in an invocation of its own, swaps the loaded copy in, closes the ledger, and the first incremental run starts below the earliest chunk bound', async () => {
      const s = await chunked('chunks', key);
      const done: string[] = [];
      const historical = await s.run(
        { pipeline: 'historical' },
        { at: (p) => p.phase === 'succeeded' && done.push(p.state) },
      );
      expect(historical.status).toBe('succeeded');
      expect(done.filter((state) => state === 'ExportChunk')).toHaveLength(4);
      expect(done.filter((state) => state === 'LoadChunk')).toHaveLength(4);
      expect(done.filter((state) => state === 'PrepareCopy')).toHaveLength(1);
      expect(done).not.toContain('ExportToS3');
      expect(done).toContain('GatherChunks');
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
      const job = { jobId: success.jobId, table: 'public.items' };
      const k = (id: number) => leadingKey(key, id);
      expect(await stageJson(s, (deps) => chunkItemsKey(deps, job))).toEqual([
        { index: 0, from: null, to: k(11) },
        { index: 1, from: k(11), to: k(21) },
        { index: 2, from: k(21), to: k(31) },
        { index: 3, from: k(31), to: null },
      ]);
      for (let index = 0; index < 4; index++) {
        expect(await stageJson(s, (deps) => chunkLoadKey(deps, job, index))).toMatchObject({
          index,
          rowsLoaded: 10,
          skippedFiles: 0,
        });
      }
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
  },
);

describe.each(KEYS)('the fault suite on a chunked historical load, %s key', (key) => {
  it('retries a chunk whose PostgreSQL connection is cut mid-export, and loads every row once', async () => {
    const s = await chunked('chunkcut', key, 400);
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
    const s = await chunked('chunks3', key);
    const flaky = breakingUpload(1);
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: flaky.wrapPorts });
    expect(run.status).toBe('succeeded');
    expect(flaky.uploads()).toBe(5);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ files: 4, rowsExported: ROWS, rowsLoaded: ROWS, countMatch: true });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it("retries a chunk's load when Snowflake is down once, and loads every row exactly once", async () => {
    const s = await chunked('chunksf', key);
    const once = chunkLoadFailingOnce(0, 'before');
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: once.wrapPorts });
    expect(run.status).toBe('succeeded');
    // Four chunks, one of them twice.
    expect(once.calls()).toBe(5);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[1]).toMatchObject({ errorMessage: expect.stringMatching(/^LoadChunk is running again/) });
    expect(events[2]).toMatchObject({
      retryCount: 1,
      rowsLoaded: ROWS,
      recordCountAfter: ROWS,
      countMatch: true,
    });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it("does not load a chunk's files twice when its COPY committed and the answer was lost", async () => {
    const s = await chunked('chunklost', key);
    const lost = chunkLoadFailingOnce(1, 'after');
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: lost.wrapPorts });
    expect(run.status).toBe('succeeded');
    expect(lost.calls()).toBe(5);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ rowsLoaded: ROWS, recordCountAfter: ROWS, countMatch: true });
    // The retried chunk's file was in the copy's load metadata: Snowflake skipped it, and its rows counted once.
    const job = { jobId: events[2]!.jobId, table: 'public.items' };
    const records = await Promise.all(
      [0, 1, 2, 3].map((index) =>
        stageJson<{ skippedFiles: number; rowsLoaded: number }>(s, (deps) => chunkLoadKey(deps, job, index)),
      ),
    );
    expect(records.map((r) => r?.skippedFiles).sort()).toEqual([0, 0, 0, 1]);
    expect(records.reduce((n, r) => n + (r?.rowsLoaded ?? 0), 0)).toBe(ROWS);
    await s.expectTargetEqualsSource();
  }, 120_000);

  it(`fails the table at ${ROUTING_STATE.exportChunks} with one alert naming the chunk when it cannot be exported, and the target keeps its rows`, async () => {
    const s = await chunked('chunkdown', key);
    const first = await s.run({ pipeline: 'historical' });
    expect(first.status).toBe('succeeded');
    const bound = leadingKey(key, 21);
    const down = wrapping({
      source: (source) => ({
        export: async (...args: Parameters<typeof source.export>) => {
          if (args[1].kind === 'keys' && args[1].range.from === bound) {
            throw new StageUnavailableError('S3 unreachable for this chunk (injected)');
          }
          return source.export(...args);
        },
      }),
    });
    const failed = await s.run({ pipeline: 'historical' }, { wrapPorts: down });
    expect(failed.status).toBe('failed');
    expect(failed.alertLines).toHaveLength(1);
    const named = `chunk 2 [${bound}, ${leadingKey(key, 31)}) failed in ExportChunk after its retries: S3 unreachable for this chunk (injected)`;
    expect(JSON.stringify(failed.alertLines[0])).toContain(named);
    const events = await s.auditOf(failed.executionId);
    expect(eventTypes(events).filter((t) => t !== 'retry')).toEqual(['start', 'failure', 'alert']);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      errorType: 'StageUnavailableError',
      // The steps' durations ride after the message (domain/step-durations.ts).
      errorMessage: expect.stringMatching(new RegExp(`^${escapeRegExp(named)} \\[step ms: [^\\]]+\\]$`)),
      rowsLoaded: null,
    });
    await s.expectTargetEqualsSource();
  }, 120_000);
  it(`fails the table at ${ROUTING_STATE.loadChunks} naming the chunk whose files do not load, and swaps nothing`, async () => {
    const s = await chunked('loaddown', key);
    expect((await s.run({ pipeline: 'historical' })).status).toBe('succeeded');
    await s.insertRows(4);
    const refusing = wrapping({
      warehouse: (w) => ({
        loadIntoCopy: async (...args: Parameters<typeof w.loadIntoCopy>) => {
          if (args[1].some((k) => k.includes('/chunk-00001/'))) {
            throw new LoadIncompleteError('a file of this chunk ended LOAD_FAILED (injected)');
          }
          return w.loadIntoCopy(...args);
        },
      }),
    });
    const failed = await s.run({ pipeline: 'historical' }, { wrapPorts: refusing });
    expect(failed.status).toBe('failed');
    const named = `chunk 1 [${leadingKey(key, 11)}, ${leadingKey(key, 21)}) failed in LoadChunk after its retries: a file of this chunk ended LOAD_FAILED (injected)`;
    expect(failed.alertLines).toHaveLength(1);
    expect(JSON.stringify(failed.alertLines[0])).toContain(named);
    expect(JSON.stringify(failed.alertLines[0])).toContain(ROUTING_STATE.loadChunks);
    const events = await s.auditOf(failed.executionId);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      errorType: 'LoadIncompleteError',
      // The steps' durations ride after the message (domain/step-durations.ts).
      errorMessage: expect.stringMatching(new RegExp(`^${escapeRegExp(named)} \\[step ms: [^\\]]+\\]$`)),
      rowsLoaded: null,
    });
    // Nothing was swapped: the target holds the first load's rows.
    expect((await s.targetSql('SELECT COUNT(*) AS N FROM ITEMS'))[0]?.N).toBe(ROWS);
  }, 120_000);
});

describe('the swap of a chunked load', () => {
  it('keeps the target as it was when the copy does not count up, and reloads every row once on the next run', async () => {
    const s = await chunked('chunkbad', 'bigint');
    const first = await s.run({ pipeline: 'historical' });
    expect(first.status).toBe('succeeded');
    await s.insertRows(4);
    let swapped = 0;
    const refusing = wrapping({
      warehouse: () => ({
        swapInCopy: async () => {
          swapped++;
          throw new CountMismatchError('the loaded copy holds fewer rows than its chunks (injected)');
        },
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

  /** Ports whose first swap goes through and then loses its answer, counting the swaps that ran. */
  const swapAnswerLost = () => {
    let swaps = 0;
    const wrapPorts = wrapping({
      warehouse: (w) => ({
        swapInCopy: async (...args: Parameters<typeof w.swapInCopy>) => {
          await w.swapInCopy(...args);
          if (swaps++ === 0) throw new WarehouseUnavailableError('connection lost after the swap (injected)');
        },
      }),
    });
    return { wrapPorts, swaps: () => swaps };
  };

  it('does not swap back when a retry finds the swap done: the counts of both tables tell', async () => {
    const s = await chunked('swaplost', 'bigint');
    expect((await s.run({ pipeline: 'historical' })).status).toBe('succeeded');
    await s.insertRows(4);
    const lost = swapAnswerLost();
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: lost.wrapPorts });
    expect(run.status).toBe('succeeded');
    expect(lost.swaps()).toBe(1);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ rowsLoaded: ROWS + 4, recordCountAfter: ROWS + 4, countMatch: true });
    await s.expectTargetEqualsSource();
  }, 120_000);

  it('refuses, naming why, when a retry cannot tell whether the swap happened', async () => {
    const s = await chunked('swapsame', 'bigint');
    expect((await s.run({ pipeline: 'historical' })).status).toBe('succeeded');
    // The same rows again: the copy and the target count alike, before the swap and after.
    const lost = swapAnswerLost();
    const run = await s.run({ pipeline: 'historical' }, { wrapPorts: lost.wrapPorts });
    expect(run.status).toBe('failed');
    expect(lost.swaps()).toBe(1);
    const events = await s.auditOf(run.executionId);
    expect(events.find((e) => e.eventType === 'failure')).toMatchObject({
      errorType: 'PlanRecordError',
      errorMessage: expect.stringMatching(/began the swap and it cannot be told whether it happened/),
    });
    await s.expectTargetEqualsSource();
  }, 120_000);
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
