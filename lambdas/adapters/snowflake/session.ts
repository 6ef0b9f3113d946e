// A connection to Snowflake through snowflake-sdk, and who owns it: key-pair sign-in (a password only for
// local use), the session's statement timeout, and one connection kept across warm Lambda invocations or,
// for a process that ends, one of the session's own. Driver errors leave as the domain's named errors.
import { createHash } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { SnowflakeConfig } from '../../config';
import { WarehouseUnavailableError } from '../../domain/errors';
import { toWarehouseError } from './errors';

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
}

// One connection per configuration, kept for the life of the process: a warm Lambda reuses it.
const warmConnections = new Map<string, Promise<snowflake.Connection>>();

/** Destroys every connection kept warm (sessions that are not warm close their own). */
export async function closeSnowflakeConnections(): Promise<void> {
  const open = [...warmConnections.values()];
  warmConnections.clear();
  await Promise.allSettled(open.map(async (pending) => destroy(await pending)));
}

export class SnowflakeSession {
  private readonly key: string;
  private readonly keepWarm: boolean;
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
    this.key = cacheKey(config);
    this.keepWarm = options.keepWarm;
    this.connections = this.keepWarm ? warmConnections : new Map();
  }

  /** Runs one statement; an expired or broken connection is dropped so the retry signs in afresh. */
  async query(what: string, sqlText: string, binds?: Binds): Promise<Row[]> {
    const connection = await this.connection();
    try {
      return await run(connection, sqlText, binds);
    } catch (err) {
      const mapped = toWarehouseError(err, what);
      if (mapped instanceof WarehouseUnavailableError) this.connections.delete(this.key);
      throw mapped;
    }
  }

  /**
   * Runs `work` on a connection of its own, destroyed afterwards: for a transaction, whose statements
   * must not mix with other tables' on the shared connection.
   */
  async dedicated<T>(what: string, work: (exec: (sql: string) => Promise<Row[]>) => Promise<T>): Promise<T> {
    const connection = await openConnection(this.config).catch((err) => {
      throw toWarehouseError(err, 'signing in to Snowflake');
    });
    try {
      return await work((sql) =>
        run(connection, sql).catch((err) => Promise.reject(toWarehouseError(err, what))),
      );
    } finally {
      await destroy(connection);
    }
  }

  async close(): Promise<void> {
    if (this.keepWarm) return;
    const pending = this.connections.get(this.key);
    this.connections.delete(this.key);
    const connection = await pending?.catch(() => null);
    if (connection) await destroy(connection);
  }

  private async connection(): Promise<snowflake.Connection> {
    const cached = this.connections.get(this.key);
    if (cached) {
      const connection = await cached.catch(() => null);
      if (connection?.isUp()) return connection;
      this.connections.delete(this.key);
    }
    const pending = openConnection(this.config);
    this.connections.set(this.key, pending);
    try {
      return await pending;
    } catch (err) {
      this.connections.delete(this.key);
      throw toWarehouseError(err, 'signing in to Snowflake');
    }
  }
}

function cacheKey(config: SnowflakeConfig): string {
  const secret = createHash('sha256')
    .update(config.privateKey ?? config.privateKeyFile ?? config.password ?? '')
    .digest('hex');
  const { account, username, accessUrl, database, schema, warehouse, role, statementTimeoutSeconds } = config;
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

async function openConnection(config: SnowflakeConfig): Promise<snowflake.Connection> {
  const connection = snowflake.createConnection(connectionOptions(config));
  await new Promise<void>((resolve, reject) => connection.connect((err) => (err ? reject(err) : resolve())));
  try {
    await run(
      connection,
      `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${config.statementTimeoutSeconds}, TIMEZONE = 'UTC'`,
    );
  } catch (err) {
    connection.destroy(() => {});
    throw err;
  }
  return connection;
}

function run(connection: snowflake.Connection, sqlText: string, binds?: Binds): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      ...(binds !== undefined ? { binds } : {}),
      complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
    });
  });
}

function destroy(connection: snowflake.Connection): Promise<void> {
  return new Promise<void>((resolve) => connection.destroy(() => resolve()));
}
