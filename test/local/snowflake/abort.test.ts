// The stand-in's side of a cancelled statement, through the unmodified snowflake-sdk: the abort request
// (sent by request id while a synchronous statement still waits, as the driver does) ends a statement
// held before it runs, which then never runs; a statement whose session was deleted under
// ABORT_DETACHED_QUERY = TRUE is aborted once the detached-query delay passes, and its transaction rolled
// back; and the session settings Tally pins are accepted. Snowflake recommends cancelling a statement
// through the driver's cancellation API (https://docs.snowflake.com/en/user-guide/querying-cancel-statements),
// and answers a cancelled one "SQL execution canceled" (000604, SQL state 57014).
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { sessionSettings } from '../../../lambdas/adapters/snowflake/session-settings';
import { type LocalSnowflake, startSnowflake } from '../../../local/snowflake';
import { StatementFaults } from '../../support/faults/statement-faults';
import { type Connection, connect, destroy, exec } from '../../support/snowflake-client';

const faults = new StatementFaults();
let snowflake: LocalSnowflake;

const open = () =>
  connect({
    accessUrl: snowflake.accessUrl,
    account: snowflake.account,
    username: snowflake.username,
    password: snowflake.password,
    database: snowflake.database,
    schema: snowflake.schema,
  });

/** Sends `sqlText` and returns at once; `answer` settles with its error code, or 'ok'. */
function send(connection: Connection, sqlText: string) {
  let statement: { cancel(callback?: () => void): void } | undefined;
  const answer = new Promise<string>((resolve) => {
    statement = connection.execute({
      sqlText,
      complete: (err) => resolve(err ? String((err as { code?: unknown }).code) : 'ok'),
    });
  });
  return { answer, cancel: () => new Promise<void>((done) => statement?.cancel(() => done())) };
}

async function rows(table: string): Promise<number> {
  const connection = await open();
  try {
    return Number((await exec(connection, `SELECT COUNT(*) AS N FROM ${table}`)).rows[0]?.N);
  } finally {
    await destroy(connection);
  }
}

/** Snowflake waits 5 minutes (https://docs.snowflake.com/en/sql-reference/parameters#abort-detached-query). */
const DETACHED_ABORT_MS = 1_000;

beforeAll(async () => {
  snowflake = await startSnowflake({
    s3: inject('stack').s3,
    statementHook: faults.hook,
    detachedQueryAbortMs: DETACHED_ABORT_MS,
  });
  const admin = await open();
  await exec(admin, 'CREATE TABLE HELD (N NUMBER)');
  await destroy(admin);
});

afterAll(async () => {
  await snowflake?.stop();
});

describe('an aborted statement in the Snowflake stand-in', () => {
  it('answers 000604 to a statement cancelled while held before it runs, and never runs it', async () => {
    faults.add({ match: /^INSERT INTO HELD VALUES \(1\)/, delayMs: 30_000, times: 1 });
    const connection = await open();
    const insert = send(connection, 'INSERT INTO HELD VALUES (1)');
    await vi.waitFor(() => expect(faults.hits).toContain('INSERT INTO HELD VALUES (1)'));
    const started = Date.now();
    await insert.cancel();
    expect(await insert.answer).toBe('000604');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(faults.aborted).toContain('INSERT INTO HELD VALUES (1)');
    expect(await rows('HELD')).toBe(0);
    await destroy(connection);
  });

  it('aborts the held statement of a deleted session under ABORT_DETACHED_QUERY = TRUE, rolling back its transaction', async () => {
    faults.add({ match: /^INSERT INTO HELD VALUES \(3\)/, delayMs: 30_000, times: 1 });
    const [connection, watcher] = await Promise.all([open(), open()]);
    await exec(connection, 'ALTER SESSION SET ABORT_DETACHED_QUERY = TRUE');
    await exec(connection, 'BEGIN');
    await exec(connection, 'INSERT INTO HELD VALUES (2)');
    const { queryId } = await exec(connection, 'INSERT INTO HELD VALUES (3)', undefined, { asyncExec: true });
    await vi.waitFor(() => expect(faults.hits).toContain('INSERT INTO HELD VALUES (3)'));
    const started = Date.now();
    await destroy(connection);
    await vi.waitFor(async () => expect(await watcher.getQueryStatus(queryId)).toBe('ABORTED'), 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DETACHED_ABORT_MS);
    expect(faults.aborted).toContain('INSERT INTO HELD VALUES (3)');
    await vi.waitFor(async () => expect(await rows('HELD')).toBe(0));
    await destroy(watcher);
  });

  it('accepts the session settings Tally pins on every connection', async () => {
    const connection = await open();
    await exec(connection, sessionSettings(875));
    expect((await exec(connection, 'SELECT 1 AS ONE')).rows).toEqual([{ ONE: 1 }]);
    await destroy(connection);
  });
});
