// Connections to PostgreSQL: settings from the url and the separate keys, a small pool, and every driver
// or network failure named for the domain (a wrong password, a missing database, an unreachable server)
// with what to fix, never the password.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { type PostgresConfig, type PostgresTls, resolvePostgres } from '../../config';
import {
  InvalidConfigError,
  SourceAuthError,
  SourceTlsError,
  SourceUnavailableError,
  TallyError,
} from '../../domain/errors';
import { NETWORK_CODES } from '../network';
import { describeTls, isTlsFailure, pgTlsOptions, tlsFailure } from './tls';

const AUTH_CODES = new Set(['28P01', '28000', '42501']);
// Connection lost, server starting or shutting down, too many connections, serialization conflicts and
// timeouts: waiting and trying again can help.
const TRANSIENT_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53000',
  '40001',
  '40P01',
  '55P03',
  '57014',
]);
// pg reports a timeout, a dropped connection, or a client whose connection already failed, by message only.
const TIMEOUT_MESSAGE =
  /timeout expired|timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable/i;

interface PgLikeError {
  readonly code?: string;
  readonly message?: string;
}

/** A pool of connections to one database; `close()` ends it. */
export class PgConnections {
  private readonly pool: pg.Pool;
  /** Where the server is, for messages: never includes the password. */
  readonly where: string;
  readonly user: string;
  private readonly tls: PostgresTls;

  constructor(config: PostgresConfig) {
    const c = resolvePostgres(config);
    const passwordFile = config.passwordFile;
    this.where = `${c.host}:${c.port}/${c.database}`;
    this.user = c.user ?? '(default user)';
    this.tls = c.ssl;
    this.pool = new pg.Pool({
      host: c.host,
      port: c.port,
      database: c.database,
      ...(c.user !== undefined ? { user: c.user } : {}),
      // Read per connection, so a rotated secret file is picked up without a restart.
      password:
        passwordFile !== undefined
          ? async () => (await readFile(passwordFile, 'utf8')).trim()
          : (c.password ?? undefined),
      ssl: pgTlsOptions(c.ssl),
      connectionTimeoutMillis: config.connectTimeoutMs,
      statement_timeout: config.statementTimeoutMs,
      application_name: 'tally',
      max: 4,
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  /** Runs `work` on a pooled connection; a failed one is discarded, and errors get Tally's names. */
  async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    // A connection lost while checked out is reported to the running query too; without a listener the
    // client's own 'error' event would be an uncaught exception.
    const ignore = () => {};
    client.on('error', ignore);
    let failed = false;
    try {
      return await work(client);
    } catch (err) {
      failed = true;
      throw this.translate(err);
    } finally {
      client.off('error', ignore);
      client.release(failed);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Names a driver or network failure and says what to fix; never includes the password. */
  private translate(err: unknown): unknown {
    if (err instanceof TallyError) return err;
    const e = err as PgLikeError;
    const code = e?.code ?? '';
    const detail = e?.message ?? String(err);
    if (isTlsFailure(err)) return tlsFailure(err, this.where, this.tls);
    if (code === '28000' && /no encryption/i.test(detail)) {
      // pg_hba.conf has only `hostssl` lines for this client: the server wants TLS.
      return new SourceTlsError(
        `PostgreSQL at ${this.where} accepts only TLS connections, and postgres.ssl is ${describeTls(this.tls)}: remove ssl: false (or sslmode=disable in the url)`,
        { cause: err },
      );
    }
    if (AUTH_CODES.has(code)) {
      return new SourceAuthError(
        `PostgreSQL at ${this.where} refused user ${this.user} (${code}: ${detail}): check postgres.user and the password (postgres.password, passwordFile or the secret), and the user's grants`,
        { cause: err },
      );
    }
    if (code === '3D000') {
      return new InvalidConfigError(
        `PostgreSQL at ${this.where} has no such database (${detail}): check postgres.database or the url`,
        { cause: err },
      );
    }
    if (
      NETWORK_CODES.has(code) ||
      code.startsWith('08') ||
      TRANSIENT_SQLSTATES.has(code) ||
      TIMEOUT_MESSAGE.test(detail)
    ) {
      return new SourceUnavailableError(
        `PostgreSQL at ${this.where} is unavailable (${code || detail}): check postgres.host and postgres.port (or the url), that the server is running and reachable, and the timeouts; the step will retry`,
        { cause: err },
      );
    }
    return err;
  }
}
