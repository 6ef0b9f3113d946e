// The Snowflake stand-in stops answering in the middle of a COPY: the statement is cancelled at its
// step's deadline (the abort request reaches the stand-in), the step fails with a transient error well
// before its time limit, and the retry loads every row exactly once, leaving no lease row, no staging
// table and, for a historical replace, the previous rows until the retry replaces them. The cancel is the
// driver's cancellation API, the way Snowflake recommends to cancel a statement
// (https://docs.snowflake.com/en/user-guide/querying-cancel-statements); a transaction left open by a
// vanished session would keep its locks (https://docs.snowflake.com/en/sql-reference/transactions), so the
// stopped attempt rolls back before it gives up its connection.
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../local/runner';
import { eventTypes, rigForFile, type Scenario } from '../support/faults/rig';

const file = rigForFile();

/** LoadSnowflake's time limit here: its statements must have ended a quarter of it earlier. */
const LIMIT_MS = 8_000;
/** Longer than the step may run: the stand-in holds the COPY until it is aborted. */
const HELD_MS = 60_000;

const TARGET_COPY = /^COPY INTO \S*"ITEMS" \([^)]*\) FROM /;
const STAGING_COPY = /^COPY INTO \S*"TALLY-STAGING-ITEMS" \([^)]*\) FROM /;
const TARGET_DELETE = /^DELETE FROM \S*"ITEMS"$/;

interface Attempt {
  readonly started: number;
  ended?: number;
  error?: { readonly name: string; readonly message: string };
}

/** Records each LoadSnowflake attempt's start, end and error. */
function attempts(): { readonly list: Attempt[]; readonly at: (p: Progress) => void } {
  const list: Attempt[] = [];
  return {
    list,
    at: (p) => {
      if (p.state !== 'LoadSnowflake') return;
      if (p.phase === 'started') list.push({ started: Date.now() });
      const current = list.at(-1);
      if (p.phase !== 'started' && current) Object.assign(current, { ended: Date.now(), error: p.error });
    },
  };
}

/** The first attempt was stopped at its deadline with a transient error; the second one loaded. */
function expectStoppedThenLoaded(list: readonly Attempt[]): void {
  expect(list).toHaveLength(2);
  const [stopped, retried] = list as [Attempt, Attempt];
  expect(stopped.error?.name).toBe('WarehouseUnavailableError');
  expect(stopped.error?.message).toMatch(/did not finish before the step's deadline and was cancelled/);
  const took = stopped.ended! - stopped.started;
  // By its deadline (the limit less a quarter), with little more for cancelling: never its time limit.
  expect(took).toBeGreaterThanOrEqual(LIMIT_MS * 0.75 - 100);
  expect(took).toBeLessThan(LIMIT_MS * 0.9);
  expect(retried.error).toBeUndefined();
}

async function expectNothingLeftBehind(s: Scenario): Promise<void> {
  expect(await s.targetSql('SELECT TABLE_NAME FROM TALLY_LOCKS')).toEqual([]);
  expect(await s.targetSql("SHOW TABLES LIKE '%STAGING%'")).toEqual([]);
}

describe('the Snowflake stand-in stops answering in the middle of a COPY', () => {
  it('cancels a historical replace at its deadline, keeps the previous rows, and the retry replaces them once', async () => {
    const s = await file.scenario('copyheld', 20);
    expect((await s.run({ pipeline: 'historical' })).status).toBe('succeeded');
    await s.insertRows(5);
    const { statements } = file.rig;
    statements.add({ match: TARGET_COPY, delayMs: HELD_MS, times: 1 });
    const load = attempts();
    let between: Promise<Record<string, unknown>[]> | undefined;
    const run = await s.run(
      { pipeline: 'historical' },
      {
        timeLimitsMs: { LoadSnowflake: LIMIT_MS },
        at: (p) => {
          load.at(p);
          if (p.state === 'LoadSnowflake' && p.phase === 'failed') {
            // Between the attempts, while the retry's DELETE is held back: the stopped transaction is gone.
            statements.add({ match: TARGET_DELETE, delayMs: 1_000, times: 1 });
            between = s.targetSql('SELECT COUNT(*) AS N FROM ITEMS');
          }
        },
      },
    );
    expect(run.status).toBe('succeeded');
    expectStoppedThenLoaded(load.list);
    // The abort request reached the stand-in, which ended the held COPY instead of running it later.
    expect(statements.aborted).toEqual([expect.stringMatching(TARGET_COPY)]);
    expect((await between)?.[0]?.N).toBe(20);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ retryCount: 1, rowsLoaded: 25, countMatch: true });
    await s.expectTargetEqualsSource();
    await expectNothingLeftBehind(s);
  }, 60_000);

  it('cancels the COPY into the staging table of a MERGE at its deadline, and the retry merges every row once', async () => {
    const { s } = await file.loadedThenChanged('stagingheld');
    const { statements } = file.rig;
    statements.add({ match: STAGING_COPY, delayMs: HELD_MS, times: 1 });
    const load = attempts();
    const run = await s.run(
      { pipeline: 'incremental' },
      { timeLimitsMs: { LoadSnowflake: LIMIT_MS }, at: load.at },
    );
    expect(run.status).toBe('succeeded');
    expectStoppedThenLoaded(load.list);
    expect(statements.aborted).toEqual([expect.stringMatching(STAGING_COPY)]);
    const events = await s.auditOf(run.executionId);
    expect(eventTypes(events)).toEqual(['start', 'retry', 'success']);
    expect(events[2]).toMatchObject({ retryCount: 1, countMatch: true });
    await s.expectTargetEqualsSource();
    await expectNothingLeftBehind(s);
  }, 60_000);
});
