// The Snowflake session's deadline handling against a stand-in for snowflake-sdk's connection object (the
// unit tier opens no socket): what is cancelled, discarded, rolled back and refused once a step's
// deadline passes. The stand-in server and a real driver are exercised in test/faults/.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SnowflakeSession } from '../../../lambdas/adapters/snowflake/session';
import { snowflakeSchema } from '../../../lambdas/config';
import { WarehouseUnavailableError } from '../../../lambdas/domain/errors';
import { withStepClock } from '../../../lambdas/step-clock';

const driver = vi.hoisted(() => {
  type Complete = (err: unknown, stmt: unknown, rows?: unknown[]) => void;
  class FakeConnection {
    destroyed = false;
    signedIn: (() => void) | undefined;
    connect(callback: (err: unknown, conn: unknown) => void): void {
      this.signedIn = () => callback(undefined, this);
      if (!state.signInHangs) setImmediate(this.signedIn);
    }
    isUp(): boolean {
      return !this.destroyed;
    }
    execute(options: { sqlText: string; complete: Complete }) {
      state.sent.push(options.sqlText);
      const statement = {
        cancel: (callback?: () => void) => {
          state.cancelled.push(options.sqlText);
          setImmediate(() => callback?.());
        },
      };
      if (!state.hang.test(options.sqlText)) setImmediate(() => options.complete(undefined, statement, []));
      return statement;
    }
    destroy(callback: () => void): void {
      this.destroyed = true;
      setImmediate(callback);
    }
  }
  const state = {
    hang: /^$/,
    signInHangs: false,
    sent: [] as string[],
    cancelled: [] as string[],
    connections: [] as FakeConnection[],
  };
  return {
    state,
    module: {
      configure: () => {},
      createConnection: () => {
        const connection = new FakeConnection();
        state.connections.push(connection);
        return connection;
      },
    },
  };
});

vi.mock('snowflake-sdk', () => ({ default: driver.module }));

const { state } = driver;
const config = snowflakeSchema.parse({ account: 'acct', username: 'u', password: 'pw', database: 'DB' });
const session = (longestStepSeconds?: number) =>
  new SnowflakeSession(config, { keepWarm: false, ...(longestStepSeconds ? { longestStepSeconds } : {}) });

/** A step of 400 ms: its statements must have ended by 300 ms, and cancelling may take 50 ms more. */
const inStep = <T>(work: () => Promise<T>) => withStepClock(400, work);

async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the work to fail');
}

afterEach(() => {
  Object.assign(state, { hang: /^$/, signInHangs: false, sent: [], cancelled: [], connections: [] });
});

describe("a Snowflake statement past its step's deadline", () => {
  it('is cancelled, its connection destroyed, and the step fails with a transient error in time', async () => {
    state.hang = /^COPY/;
    const s = session();
    const started = Date.now();
    const err = await failure(inStep(() => s.query('loading ITEMS', 'COPY INTO ITEMS')));
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(WarehouseUnavailableError);
    expect(err.message).toMatch(/^loading ITEMS: the statement did not finish before the step's deadline/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(400);
    expect(state.cancelled).toEqual(['COPY INTO ITEMS']);
    expect(state.connections[0]?.destroyed).toBe(true);
  });

  it('leaves the next statement a new connection, set up before it runs', async () => {
    state.hang = /^COPY/;
    const s = session();
    await failure(inStep(() => s.query('loading ITEMS', 'COPY INTO ITEMS')));
    state.hang = /^$/;
    await inStep(() => s.query('counting ITEMS', 'SELECT COUNT(*) FROM ITEMS'));
    expect(state.connections).toHaveLength(2);
    expect(state.sent.slice(-2)).toEqual([
      expect.stringMatching(/^ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 875, /),
      'SELECT COUNT(*) FROM ITEMS',
    ]);
  });

  it('is not sent at all once the deadline has passed, and keeps its connection', async () => {
    const s = session();
    await inStep(() => s.query('counting ITEMS', 'SELECT 1'));
    const err = await failure(
      inStep(async () => {
        await sleep(320);
        return s.query('counting ITEMS', 'SELECT 2');
      }),
    );
    expect(err.message).toMatch(/the statement was not sent/);
    expect(state.sent).not.toContain('SELECT 2');
    expect(state.connections[0]?.destroyed).toBe(false);
  });

  it('rolls its transaction back at once and refuses the rest of it, the ROLLBACK of the caller too', async () => {
    state.hang = /^COPY/;
    const s = session();
    const err = await failure(
      inStep(() =>
        s.dedicated('replacing the rows of ITEMS', async (exec) => {
          await exec('BEGIN');
          try {
            await exec('DELETE FROM ITEMS');
            await exec('COPY INTO ITEMS');
          } catch (e) {
            await exec('ROLLBACK').catch(() => undefined);
            throw e;
          }
        }),
      ),
    );
    expect(err).toBeInstanceOf(WarehouseUnavailableError);
    expect(state.sent.slice(1)).toEqual(['BEGIN', 'DELETE FROM ITEMS', 'COPY INTO ITEMS', 'ROLLBACK']);
    expect(state.cancelled).toEqual(['COPY INTO ITEMS']);
    expect(state.connections[0]?.destroyed).toBe(true);
  });
});

describe('a Snowflake sign-in past the deadline', () => {
  it('is given up on, and the session it opens later is ended at once', async () => {
    state.signInHangs = true;
    const s = session();
    const err = await failure(inStep(() => s.query('counting ITEMS', 'SELECT 1')));
    expect(err).toBeInstanceOf(WarehouseUnavailableError);
    expect(err.message).toMatch(
      /^signing in to Snowflake: the sign-in did not finish before the step's deadline/,
    );
    const late = state.connections[0]!;
    late.signedIn?.();
    await vi.waitFor(() => expect(late.destroyed).toBe(true));
    expect(state.sent).toEqual([]);
  });
});

describe('a Snowflake statement outside any step', () => {
  it('may take as long as the longest step, then is cancelled all the same', async () => {
    state.hang = /^SELECT/;
    const s = session(1);
    const started = Date.now();
    const err = await failure(s.query('reading the audit log', 'SELECT * FROM TALLY_AUDIT_LOG'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(err.message).toMatch(/did not finish within 1 s and was cancelled/);
    expect(state.cancelled).toEqual(['SELECT * FROM TALLY_AUDIT_LOG']);
  });
});
