// The local Snowflake stand-in, ready to use: the DuckDB-backed engine behind the HTTP server on a free
// loopback port, one account with one password user, and stages that read from the S3 stand-in.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserDirectory, type UserSpec } from './auth';
import { createEngine } from './engine';
import type { EngineOptions } from './engine-types';
import { type StatementHook, startServer } from './server';

export interface StartSnowflakeOptions {
  /** The S3 stand-in that `s3://bucket/...` stage URLs resolve against. */
  readonly s3: EngineOptions['s3'];
  /** Where the DuckDB files live; data there survives a restart. Default: a new temporary directory. */
  readonly dir?: string;
  readonly account?: string;
  readonly username?: string;
  readonly password?: string;
  readonly database?: string;
  readonly schema?: string;
  readonly warehouse?: string;
  /** The role sessions start in; the user also holds ACCOUNTADMIN for user and role administration. */
  readonly role?: string;
  readonly port?: number;
  readonly sessionValiditySeconds?: number;
  /** Consulted around every statement, to inject faults in tests; none by default. */
  readonly statementHook?: StatementHook;
  /**
   * Snowflake's waits for clients that went away, shortened in tests: how long a transaction left by a
   * silent session must idle before one it blocks aborts it (5 minutes), and how long after its client went
   * away a query is aborted under ABORT_DETACHED_QUERY (5 minutes).
   */
  readonly detachedIdleMs?: number;
  readonly detachedQueryAbortMs?: number;
}

export interface LocalSnowflake {
  readonly accessUrl: string;
  readonly account: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly schema: string;
  readonly warehouse: string;
  readonly role: string;
  /** Where the DuckDB files are. */
  readonly dir: string;
  /** Registers an RSA public key (PEM) for a user, as `ALTER USER ... SET RSA_PUBLIC_KEY` does. */
  registerPublicKey(user: string, publicKeyPem: string): void;
  /** Adds a user that may log in (the SQL way is CREATE USER and GRANT ROLE ... TO USER). */
  addUser(user: UserSpec): void;
  stop(): Promise<void>;
}

export async function startSnowflake(options: StartSnowflakeOptions): Promise<LocalSnowflake> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'tally-snowflake-')));
  await mkdir(dir, { recursive: true });
  const account = (options.account ?? 'TALLYLOCAL').toUpperCase();
  const username = options.username ?? 'TALLY';
  const password = options.password ?? 'tally-local';
  const database = (options.database ?? 'TALLY').toUpperCase();
  const schema = (options.schema ?? 'PUBLIC').toUpperCase();
  const warehouse = (options.warehouse ?? 'TALLY_WH').toUpperCase();
  const role = (options.role ?? 'SYSADMIN').toUpperCase();

  const engine = await createEngine({
    file: join(dir, 'snowflake.duckdb'),
    s3: options.s3,
    defaultDatabase: database,
    defaultSchema: schema,
    defaultWarehouse: warehouse,
    detachedIdleMs: options.detachedIdleMs,
  });
  const directory = new UserDirectory(account);
  directory.addUser({
    name: username,
    password,
    roles: [role, 'ACCOUNTADMIN', 'SYSADMIN'],
    defaultRole: role,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      engine,
      directory,
      defaults: { database, schema, warehouse },
      port: options.port,
      sessionValiditySeconds: options.sessionValiditySeconds,
      statementHook: options.statementHook,
      detachedQueryAbortMs: options.detachedQueryAbortMs,
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  let stopped = false;
  return {
    accessUrl: server.url,
    account,
    username,
    password,
    database,
    schema,
    warehouse,
    role,
    dir,
    registerPublicKey: (user, pem) => directory.registerPublicKey(user, pem),
    addUser: (user) => directory.addUser(user),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Together: the server's closing of sessions waits for their statements, which the engine's interrupts.
      await Promise.allSettled([server.close(), engine.close()]);
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
