// A connection to Snowflake through snowflake-sdk, and who owns it: key-pair sign-in (a password only for
// local use), the session's settings (`session-settings.ts`), and one connection kept across warm Lambda
// invocations or, for a process that ends, one of the session's own. Every sign-in and statement runs
// under a deadline: past it the statement is cancelled and its connection discarded, so that none
// outlives the step that sent it. Driver errors leave as the domain's named errors.
import { createHash } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { SnowflakeConfig } from '../../config';
import { WarehouseUnavailableError } from '../../domain/errors';
import { currentStepClock } from '../../step-clock';
import { toWarehouseError } from './errors';
import {
  deadlinePassed,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  type StatementDeadline,
  sessionSettings,
  sessionStatementTimeout,
  statementDeadline,
} from './session-settings';

// The driver would print its own errors to standard output; every one it raises reaches the caller as a
// named domain error, logged once by the step that failed.
snowflake.configure({ logLevel: 'OFF' });

export type Row = Record<string, unknown>;
export type Bind = snowflake.Bind;
export type Binds = snowflake.Binds;

export interface SnowflakeSessionOptions {
  /**
   * Keep the connection open when the session is closed, for the next warm invocation of a Lambda. A
   * process that should end when its work is done (the local runner, the command line) passes false.
   */
  readonly keepWarm: boolean;
  /**
   * How long the host's longest step may run (its Lambda's timeout). The server's statement timeout stays
   * below it (`sessionStatementTimeout`), and a statement run outside any step may take this long.
   * @default 900, AWS Lambda's longest timeout
   */
  readonly longestStepSeconds?: number;
}

// One connection per configuration, kept for the life of the process: a warm Lambda reuses it.
const warmConnections = new Map<string, Promise<snowflake.Connection>>();

/** Connections that failed under a statement or passed a deadline: never handed out again. */
const discarded = new WeakSet<snowflake.Connection>();

/** Destroys every connection kept warm (sessions that are not warm close their own). */
export async function closeSnowflakeConnections(): Promise<void> {
  const open = [...warmConnections.values()];
  warmConnections.clear();
  await Promise.allSettled(open.map(async (pending) => destroy(await pending)));
}

/** A sign-in or statement that had not answered by its deadline. */
class DeadlinePassed extends Error {
  constructor(
    /** Whether the statement had been sent (and so was cancelled), or was refused before it was. */
    readonly sent: boolean,
    /** Until when cleaning up after it (cancel, roll back, discard) may go on (epoch ms). */
    readonly cleanupUntil: number,
  ) {
    super(sent ? 'cancelled at its deadline' : 'refused after its deadline');
  }
}

export class SnowflakeSession {
  private readonly key: string;
  private readonly keepWarm: boolean;
  private readonly longestStepSeconds: number;
  private readonly statementTimeoutSeconds: number;
  /**
   * Warm: the process-wide cache, shared with the next invocation. Otherwise this session's own, so that
   * closing it cannot end a statement another session in the same process (another execution run by
   * the local runner) has in flight.
   */
  private readonly connections: Map<string, Promise<snowflake.Connection>>;

  constructor(
    readonly config: SnowflakeConfig,
    options: SnowflakeSessionOptions,
  ) {
    this.keepWarm = options.keepWarm;
    this.longestStepSeconds = options.longestStepSeconds ?? LAMBDA_MAX_TIMEOUT_SECONDS;
    this.statementTimeoutSeconds = sessionStatementTimeout(
      config.statementTimeoutSeconds,
      this.longestStepSeconds,
    );
    this.key = cacheKey(config, this.statementTimeoutSeconds);
    this.connections = this.keepWarm ? warmConnections : new Map();
  }

  /**
   * Runs one statement by the deadline. A broken connection, or one whose statement passed the deadline
   * (cancelled, then destroyed), is discarded so that the retry signs in afresh.
   */
  async query(what: string, sqlText: string, binds?: Binds): Promise<Row[]> {
    const deadline = this.deadline();
    const connection = await this.connection(deadline);
    try {
      return await run(connection, sqlText, binds, deadline);
    } catch (err) {
      if (err instanceof DeadlinePassed) {
        if (err.sent) {
          discarded.add(connection);
          await settledBy(destroy(connection), err.cleanupUntil);
        }
        throw deadlinePassed(what, deadline, err.sent ? 'statement' : 'refused');
      }
      const mapped = toWarehouseError(err, what);
      if (mapped instanceof WarehouseUnavailableError) discarded.add(connection);
      throw mapped;
    }
  }

  /**
   * Runs `work` on a connection of its own, destroyed afterwards: for a transaction, whose statements
   * must not mix with other tables' on the shared connection. When a statement passes the deadline the
   * transaction is rolled back here, at once, and every later statement of `work` is refused.
   */
  async dedicated<T>(what: string, work: (exec: (sql: string) => Promise<Row[]>) => Promise<T>): Promise<T> {
    const opening = this.deadline();
    const connection = await openConnection(this.config, this.statementTimeoutSeconds, opening).catch((err) =>
      Promise.reject(signInError(err, opening)),
    );
    let cleanupUntil: number | undefined;
    const exec = async (sql: string): Promise<Row[]> => {
      const deadline = this.deadline();
      if (cleanupUntil !== undefined) throw deadlinePassed(what, deadline, 'refused');
      try {
        return await run(connection, sql, undefined, deadline);
      } catch (err) {
        if (!(err instanceof DeadlinePassed)) throw toWarehouseError(err, what);
        cleanupUntil = err.cleanupUntil;
        // The caller's own ROLLBACK would come after the deadline and be refused: end the transaction
        // now, so that no lock it holds waits for the session to be noticed gone.
        const until = { at: cleanupUntil, cleanupMs: 0, by: deadline.by };
        await run(connection, 'ROLLBACK', undefined, until).catch(() => undefined);
        throw deadlinePassed(what, deadline, err.sent ? 'statement' : 'refused');
      }
    };
    try {
      return await work(exec);
    } finally {
      await settledBy(destroy(connection), cleanupUntil ?? Date.now() + this.deadline().cleanupMs);
    }
  }

  async close(): Promise<void> {
    if (this.keepWarm) return;
    const pending = this.connections.get(this.key);
    this.connections.delete(this.key);
    const connection = await pending?.catch(() => null);
    if (connection) await destroy(connection);
  }

  /** The deadline of a statement started now: the step's, or the budget outside any step. */
  private deadline(): StatementDeadline {
    return statementDeadline(currentStepClock(), this.longestStepSeconds);
  }

  private async connection(deadline: StatementDeadline): Promise<snowflake.Connection> {
    const cached = this.connections.get(this.key);
    if (cached) {
      const connection = await before(
        cached.catch(() => null),
        deadline,
      ).catch((err) => Promise.reject(signInError(err, deadline)));
      if (connection?.isUp() && !discarded.has(connection)) return connection;
      if (this.connections.get(this.key) === cached) this.connections.delete(this.key);
    }
    const pending = openConnection(this.config, this.statementTimeoutSeconds, deadline);
    this.connections.set(this.key, pending);
    try {
      return await pending;
    } catch (err) {
      if (this.connections.get(this.key) === pending) this.connections.delete(this.key);
      throw signInError(err, deadline);
    }
  }
}

function signInError(err: unknown, deadline: StatementDeadline): Error {
  const what = 'signing in to Snowflake';
  return err instanceof DeadlinePassed
    ? deadlinePassed(what, deadline, 'sign-in')
    : toWarehouseError(err, what);
}

function cacheKey(config: SnowflakeConfig, statementTimeoutSeconds: number): string {
  const secret = createHash('sha256')
    .update(config.privateKey ?? config.privateKeyFile ?? config.password ?? '')
    .digest('hex');
  const { account, username, accessUrl, database, schema, warehouse, role } = config;
  return JSON.stringify([
    account,
    username,
    accessUrl,
    database,
    schema,
    warehouse,
    role,
    statementTimeoutSeconds,
    secret,
  ]);
}

function connectionOptions(config: SnowflakeConfig): snowflake.ConnectionOptions {
  const base: snowflake.ConnectionOptions = {
    account: config.account,
    username: config.username,
    database: config.database,
    schema: config.schema,
    ...(config.accessUrl !== undefined ? { accessUrl: config.accessUrl } : {}),
    ...(config.warehouse !== undefined ? { warehouse: config.warehouse } : {}),
    ...(config.role !== undefined ? { role: config.role } : {}),
    application: 'Tally',
    // Fail a sign-in fast: the state machine's Retry waits with backoff instead of a Lambda idling.
    sfRetryMaxLoginRetries: 2,
  };
  if (config.privateKey !== undefined) {
    return { ...base, authenticator: 'SNOWFLAKE_JWT', privateKey: config.privateKey };
  }
  if (config.privateKeyFile !== undefined) {
    return { ...base, authenticator: 'SNOWFLAKE_JWT', privateKeyPath: config.privateKeyFile };
  }
  return { ...base, password: config.password };
}

/** Signs in and sets the session up, both by `deadline`; not at all once it has passed. */
async function openConnection(
  config: SnowflakeConfig,
  statementTimeoutSeconds: number,
  deadline: StatementDeadline,
): Promise<snowflake.Connection> {
  if (deadline.at <= Date.now()) throw new DeadlinePassed(false, Date.now() + deadline.cleanupMs);
  const connection = snowflake.createConnection(connectionOptions(config));
  const signedIn = new Promise<void>((resolve, reject) =>
    connection.connect((err) => (err ? reject(err) : resolve())),
  );
  try {
    await before(signedIn, deadline);
    await run(connection, sessionSettings(statementTimeoutSeconds), undefined, deadline);
  } catch (err) {
    // A sign-in given up on may still succeed later: end that session as soon as it does.
    discarded.add(connection);
    void signedIn.then(
      () => destroy(connection),
      () => undefined,
    );
    throw err;
  }
  return connection;
}

/**
 * Runs one statement by `deadline`, refusing it if the deadline has already passed. Past the deadline it
 * cancels the statement (snowflake-sdk sends Snowflake the abort request), waits for that no longer than
 * the cleanup allows, and fails with DeadlinePassed. The driver's own retries of a request that gets no
 * answer (up to 1000, with sleeps up to 16 s, not settable) go on unobserved and cannot hold the caller.
 */
function run(
  connection: snowflake.Connection,
  sqlText: string,
  binds: Binds | undefined,
  deadline: StatementDeadline,
): Promise<Row[]> {
  if (deadline.at <= Date.now()) {
    return Promise.reject(new DeadlinePassed(false, Date.now() + deadline.cleanupMs));
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const statement = connection.execute({
      sqlText,
      ...(binds !== undefined ? { binds } : {}),
      complete: (err, _stmt, rows) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve((rows ?? []) as Row[]);
      },
    });
    timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      const cleanupUntil = Date.now() + deadline.cleanupMs;
      const cancelled = new Promise<void>((done) => statement.cancel(() => done()));
      void settledBy(cancelled, cleanupUntil).then(() => reject(new DeadlinePassed(true, cleanupUntil)));
    }, deadline.at - Date.now());
  });
}

/** `work`'s outcome, or DeadlinePassed once `deadline.at` has passed; `work` itself is left to finish. */
function before<T>(work: Promise<T>, deadline: StatementDeadline): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const passed = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlinePassed(true, Date.now() + deadline.cleanupMs)),
      Math.max(0, deadline.at - Date.now()),
    );
  });
  work.catch(() => undefined);
  return Promise.race([work, passed]).finally(() => clearTimeout(timer));
}

/** Waits for `work` to settle, but not past `until` (epoch ms), and never fails: cleanup after a deadline. */
async function settledBy(work: Promise<unknown>, until: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, until - Date.now()));
  });
  await Promise.race([work.then(noop, noop), late]);
  clearTimeout(timer);
}

const noop = () => undefined;

function destroy(connection: snowflake.Connection): Promise<void> {
  return new Promise<void>((resolve) => connection.destroy(() => resolve()));
}
