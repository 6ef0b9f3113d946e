// The PostgreSQL source: checks configured tables against the catalog, counts slices, and exports a slice
// as gzip CSV parts to the stage, counting and copying in one REPEATABLE READ snapshot.
import { readFile } from 'node:fs/promises';
import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { PostgresConfig } from '../config';
import {
  CountMismatchError,
  InvalidConfigError,
  InvalidInputError,
  SourceAuthError,
  SourceSchemaError,
  SourceUnavailableError,
  TallyError,
} from '../domain/errors';
import type { ResolvedTable, TableSpec } from '../domain/table';
import { type CursorKind, compareBounds } from '../domain/window';
import type { ExportOptions, ExportResult, Slice, Source, Stage } from '../ports';
import { trackRecordEnds } from './copy-rows';
import { writeCsvParts } from './csv-parts';
import { NETWORK_CODES } from './network';
import {
  bindRenderer,
  type CatalogColumn,
  CLOCK_SQL,
  cursorKindOf,
  integerUpperSql,
  literalRenderer,
  OPEN_TRANSACTIONS_SQL,
  OUTPUT_SETTINGS,
  qualified,
  STILL_OPEN_SQL,
  selectList,
  sliceCondition,
  timestampUpperSql,
  untransferableReason,
} from './pg-sql';

const DEFAULT_MAX_FILE_BYTES = 128 * 1024 * 1024;
const DEFAULT_GZIP_LEVEL = 6;
const DEFAULT_SETTLE_MS = 10_000;
const SETTLE_POLL_MS = 50;

/** Opens the transaction every read runs in: one snapshot, read only, with fixed output settings. */
const BEGIN_SNAPSHOT = ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...OUTPUT_SETTINGS].join('; ');

const TABLE_SQL = `
  SELECT c.oid::int8::text AS oid, c.relkind AS kind, has_table_privilege(c.oid, 'SELECT') AS readable
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2`;

const SCHEMA_SQL = 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1';

// Domains are described by their base type and arrays by their element type.
const COLUMNS_SQL = `
  SELECT a.attname AS name,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS pg_type,
         NOT a.attnotnull AS nullable,
         bt.typcategory AS category,
         COALESCE(et.typname, bt.typname) AS base_type,
         COALESCE(et.typcategory, bt.typcategory) AS element_category
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const PRIMARY_KEY_SQL = `
  SELECT a.attname AS name
  FROM pg_catalog.pg_index i
  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = $1::oid AND i.indisprimary
  ORDER BY k.ord`;

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

interface Connection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly ssl: boolean;
}

/** Connection fields from the url (if any), overridden by the separate settings. */
function connectionOf(config: PostgresConfig): Connection {
  let fromUrl: Partial<Connection> = {};
  if (config.url !== undefined) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new InvalidConfigError('postgres.url is not a valid URL: use postgres://user@host:port/database');
    }
    const sslmode = url.searchParams.get('sslmode');
    fromUrl = {
      host: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 5432 : Number(url.port),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')),
      user: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      ssl: sslmode !== null && sslmode !== 'disable',
    };
  }
  const host = config.host ?? fromUrl.host;
  const database = config.database ?? fromUrl.database;
  if (!host || !database) throw new InvalidConfigError('postgres: set either url, or host and database');
  return {
    host,
    database,
    port: config.host !== undefined ? config.port : (fromUrl.port ?? config.port),
    user: config.user ?? fromUrl.user,
    password: config.password ?? fromUrl.password,
    ssl: config.ssl || fromUrl.ssl === true,
  };
}

/**
 * Tally's PostgreSQL source. Construct it from the `postgres` configuration; call `close()` when done.
 * Identifiers are always quoted and catalog lookups use bind parameters, so a configured name is only
 * ever read as a name.
 */
export class PostgresSource implements Source {
  private readonly pool: pg.Pool;
  /** Where the server is, for messages: never includes the password. */
  private readonly where: string;
  private readonly user: string;

  constructor(config: PostgresConfig) {
    const c = connectionOf(config);
    const passwordFile = config.passwordFile;
    this.where = `${c.host}:${c.port}/${c.database}`;
    this.user = c.user ?? '(default user)';
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
      ssl: c.ssl,
      connectionTimeoutMillis: config.connectTimeoutMs,
      statement_timeout: config.statementTimeoutMs,
      application_name: 'tally',
      max: 4,
    });
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  async resolve(spec: TableSpec): Promise<ResolvedTable> {
    const name = `${spec.schema}.${spec.name}`;
    return this.withClient(async (client) => {
      const found = await client.query<{ oid: string; kind: string; readable: boolean }>(TABLE_SQL, [
        spec.schema,
        spec.name,
      ]);
      const table = found.rows[0];
      if (!table) {
        const schema = await client.query(SCHEMA_SQL, [spec.schema]);
        if (schema.rowCount === 0) {
          throw new SourceSchemaError(
            `schema "${spec.schema}" does not exist in PostgreSQL database ${this.where}: check the schema of table "${spec.name}" in the configuration`,
          );
        }
        throw new SourceSchemaError(
          `table "${spec.name}" does not exist in schema "${spec.schema}" of PostgreSQL database ${this.where}: check the table name in the configuration (names are case-sensitive)`,
        );
      }
      if (table.kind !== 'r' && table.kind !== 'p') {
        throw new SourceSchemaError(
          `${name} is not a table (relkind ${table.kind}): Tally exports tables with a primary key; configure the underlying table instead`,
        );
      }
      if (!table.readable) {
        throw new SourceAuthError(
          `PostgreSQL user ${this.user} may not read ${name}: GRANT SELECT on it to that user`,
        );
      }
      const columns = (
        await client.query<{
          name: string;
          pg_type: string;
          nullable: boolean;
          category: string;
          base_type: string;
          element_category: string;
        }>(COLUMNS_SQL, [table.oid])
      ).rows.map(
        (r): CatalogColumn => ({
          name: r.name,
          pgType: r.pg_type,
          nullable: r.nullable,
          category: r.category,
          baseType: r.base_type,
          elementCategory: r.element_category,
        }),
      );
      const primaryKey = (await client.query<{ name: string }>(PRIMARY_KEY_SQL, [table.oid])).rows.map(
        (r) => r.name,
      );
      return checkTable(spec, columns, primaryKey);
    });
  }

  async count(table: ResolvedTable, slice: Slice): Promise<number> {
    return this.withClient(async (client) => {
      await client.query(BEGIN_SNAPSHOT);
      const n = await countIn(client, table, slice);
      await client.query('COMMIT');
      return n;
    });
  }

  async export(
    table: ResolvedTable,
    slice: Slice,
    stage: Stage,
    options: ExportOptions,
  ): Promise<ExportResult> {
    const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const gzipLevel = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
    const lagMs = options.lagMs ?? 0;
    const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    if (!Number.isInteger(gzipLevel) || gzipLevel < 1 || gzipLevel > 9) {
      throw new InvalidInputError(`gzip level must be an integer from 1 to 9, got ${gzipLevel}`);
    }
    if (!(maxFileBytes > 0))
      throw new InvalidInputError(`maxFileBytes must be positive, got ${maxFileBytes}`);
    for (const [option, ms] of [
      ['lagMs', lagMs],
      ['settleMs', settleMs],
    ] as const) {
      if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new InvalidInputError(`${option} must be a whole number of milliseconds, 0 or more, got ${ms}`);
      }
    }
    // Checked before connecting, so a bad slice fails without touching the database or the stage.
    sliceCondition(table, slice, literalRenderer);
    const openAbove = slice.kind === 'window' && slice.window.to === null;
    const chooseBound = openAbove || (slice.kind === 'all' && options.boundCursor === true);
    const name = `${table.schema}.${table.name}`;

    return this.withClient(async (client) => {
      let upper = slice.kind === 'window' ? slice.window.to : null;
      if (chooseBound) {
        upper =
          table.cursorKind === 'timestamp'
            ? await this.timestampUpper(client, table, lagMs)
            : await this.integerUpper(client, table, settleMs);
      }
      await client.query(BEGIN_SNAPSHOT);
      let bounded = slice;
      if (slice.kind === 'window' && openAbove) {
        upper = notBelow(upper, slice.window.from, table.cursorKind);
        bounded = { kind: 'window', window: { from: slice.window.from, to: upper } };
      }
      const sourceCount = await countIn(client, table, bounded);
      const copySql = `COPY (SELECT ${selectList(table)} FROM ${qualified(table)} WHERE ${sliceCondition(table, bounded, literalRenderer)}) TO STDOUT WITH (FORMAT csv, HEADER)`;
      const reader = copyTo(copySql);
      const ends = trackRecordEnds(reader);
      const copy = client.query(reader);
      let files: Awaited<ReturnType<typeof writeCsvParts>>;
      try {
        files = await writeCsvParts(copy, ends, stage, {
          keyPrefix: options.keyPrefix,
          maxFileBytes,
          gzipLevel,
        });
      } catch (err) {
        // The COPY may still be sending: stop reading; withClient then discards the connection.
        copy.on('error', () => {});
        copy.destroy();
        throw err;
      }
      await client.query('COMMIT');
      const rows = files.reduce((sum, f) => sum + f.rows, 0);
      const problem =
        rows !== copy.rowCount
          ? `the files hold ${rows} rows but COPY reported ${copy.rowCount}`
          : rows !== sourceCount
            ? `the export wrote ${rows} rows but the snapshot counted ${sourceCount}`
            : null;
      if (problem !== null) {
        await stage.delete(files.map((f) => f.key)).catch(() => {});
        throw new CountMismatchError(
          `export of ${name} does not balance: ${problem}; the files were removed`,
        );
      }
      return {
        sourceCount,
        rows,
        rawBytes: files.reduce((sum, f) => sum + f.rawBytes, 0),
        compressedBytes: files.reduce((sum, f) => sum + f.compressedBytes, 0),
        files,
        ...(upper !== null ? { upper } : {}),
      };
    });
  }

  /**
   * The upper bound of a timestamp window open above, read on the export's connection BEFORE its
   * snapshot is taken: `min(T0 - lag, earliest start of any other open transaction)`, where T0 is the
   * database clock read first.
   *
   * Why no row is skipped. Assume the cursor is stamped from the writing transaction's own clock
   * (`now()`, `clock_timestamp()`, `statement_timestamp()`, a DEFAULT or a trigger using them), so a row
   * written by transaction X has cursor >= X's start, `xact_start`. Take a row below the bound that the
   * snapshot S does not see; X wrote it and had not committed when S was taken. X's start is below the
   * bound, so below T0: X began before T0 and was therefore open when pg_stat_activity was read
   * (after T0, before S). There it was listed with that start, so the bound is at most X's start, a
   * contradiction. Only two gaps remain, both closed by the lag: a backend stamps its start a moment
   * before it publishes it in pg_stat_activity (microseconds, unless the server stalls for longer than
   * the lag), and a server clock stepped backwards. The next window starts at this bound minus the
   * lookback, so every row the snapshot did not see lands in a later window.
   *
   * Not protected: a cursor the application sets to a value of its own choosing (such as a time taken
   * on the client before a long transaction), a `timestamp without time zone` cursor written in a
   * session time zone other than UTC, prepared (two-phase) transactions, which pg_stat_activity no
   * longer lists, and reads from a standby, which does not list the primary's transactions.
   */
  private async timestampUpper(client: pg.PoolClient, table: ResolvedTable, lagMs: number): Promise<string> {
    const cursor = table.columns.find((c) => c.name === table.cursorColumn);
    if (!cursor)
      throw new InvalidInputError(
        `cursor column ${table.cursorColumn} is not a column of ${table.schema}.${table.name}`,
      );
    // Two statements, each its own transaction: the clock is read strictly before the session list.
    const t0 = (await client.query<{ t0: string }>(CLOCK_SQL)).rows[0]?.t0;
    const read = await client.query<{ upper: string; hidden: number }>(timestampUpperSql(cursor), [
      t0,
      lagMs,
    ]);
    const row = read.rows[0];
    if (!row) throw new Error('the upper bound query returned no row');
    this.refuseHidden(row.hidden);
    return row.upper;
  }

  /**
   * The upper bound of an integer window open above: one past the largest committed value, read BEFORE
   * the export's snapshot, and used only once every transaction open after that read has ended.
   *
   * Why no row is skipped. Assume values are drawn in increasing order over time within the writing
   * transaction (a sequence, an identity column, or a clock). Take a row with value v below the bound
   * that the export's snapshot S does not see; its transaction Y was uncommitted at S. The bound is
   * m + 1 for a value m committed before the max read, so v < m (values are unique) was drawn before m,
   * hence before the max read: Y was already open then and still open at the session read that follows,
   * so the export waited for it to end before taking S, and S sees it. A contradiction. Unlike a clock
   * there is nothing to compare a still-open transaction's values with, hence the wait. If the
   * transactions do not end within `settleMs` the export fails with SourceUnavailableError (retried
   * later), rather than guess. Not protected: values an application picks itself out of order.
   */
  private async integerUpper(
    client: pg.PoolClient,
    table: ResolvedTable,
    settleMs: number,
  ): Promise<string | null> {
    const max = (await client.query<{ upper: string | null }>(integerUpperSql(table))).rows[0]?.upper ?? null;
    const open = (
      await client.query<{ pid: number; started: string | null; hidden: boolean }>(OPEN_TRANSACTIONS_SQL)
    ).rows;
    this.refuseHidden(open.filter((o) => o.hidden).length);
    const pids = open.map((o) => o.pid);
    const started = open.map((o) => o.started);
    const deadline = Date.now() + settleMs;
    for (;;) {
      if (pids.length === 0) return max;
      const still = (await client.query<{ n: number }>(STILL_OPEN_SQL, [pids, started])).rows[0]?.n ?? 0;
      if (still === 0) return max;
      if (Date.now() >= deadline) {
        throw new SourceUnavailableError(
          `${still} transaction(s) open in ${this.where} since before the export of ${table.schema}.${table.name} began did not end within ${settleMs} ms; until they do, rows they hold could commit below the bound of its integer cursor "${table.cursorColumn}": the step will retry (look for sessions idle in transaction in pg_stat_activity)`,
        );
      }
      await setTimeout(SETTLE_POLL_MS);
    }
  }

  private refuseHidden(hidden: number): void {
    if (hidden > 0) {
      throw new SourceAuthError(
        `PostgreSQL user ${this.user} cannot see ${hidden} other session(s) of ${this.where} in pg_stat_activity, so an export cannot tell whether a transaction still in flight will commit rows below its upper bound: GRANT pg_read_all_stats TO that user`,
      );
    }
  }
  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Runs `work` on a pooled connection; a failed one is discarded, and errors get Tally's names. */
  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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

  /** Names a driver or network failure and says what to fix; never includes the password. */
  private translate(err: unknown): unknown {
    if (err instanceof TallyError) return err;
    const e = err as PgLikeError;
    const code = e?.code ?? '';
    const detail = e?.message ?? String(err);
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

/**
 * An upper bound never below the window's start: when the chosen bound falls below it (a start set by
 * hand, or an older transaction still open), the window is empty at its start and reads nothing.
 */
function notBelow(upper: string | null, from: string | null, kind: CursorKind): string | null {
  if (from === null) return upper;
  return upper === null || compareBounds(upper, from, kind) < 0 ? from : upper;
}

async function countIn(client: pg.PoolClient, table: ResolvedTable, slice: Slice): Promise<number> {
  const params: unknown[] = [];
  const condition = sliceCondition(table, slice, bindRenderer(params));
  const result = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualified(table)} WHERE ${condition}`,
    params,
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** Confirms a spec against the table the catalog describes, or says what to change. */
function checkTable(
  spec: TableSpec,
  columns: readonly CatalogColumn[],
  primaryKey: readonly string[],
): ResolvedTable {
  const name = `${spec.schema}.${spec.name}`;
  if (primaryKey.length === 0) {
    throw new SourceSchemaError(
      `${name} has no primary key: add one (ALTER TABLE ... ADD PRIMARY KEY); Tally merges and splits on it`,
    );
  }
  if (primaryKey.length !== spec.primaryKey.length || primaryKey.some((k, i) => k !== spec.primaryKey[i])) {
    throw new SourceSchemaError(
      `the configured primary key (${spec.primaryKey.join(', ')}) of ${name} is not its primary key (${primaryKey.join(', ')}): set primaryKey to [${primaryKey.map((k) => `"${k}"`).join(', ')}]`,
    );
  }
  const cursor = columns.find((c) => c.name === spec.cursorColumn);
  const cursorKind = cursor ? cursorKindOf(cursor) : null;
  const candidates = columns.filter((c) => cursorKindOf(c) !== null).map((c) => c.name);
  const hint = candidates.length > 0 ? ` (candidates: ${candidates.join(', ')})` : '';
  if (!cursor) {
    throw new SourceSchemaError(
      `cursor column "${spec.cursorColumn}" does not exist in ${name}: set cursorColumn to a timestamp, date or integer column of the table${hint}`,
    );
  }
  if (cursorKind === null) {
    throw new SourceSchemaError(
      `cursor column "${cursor.name}" of ${name} has type ${cursor.pgType}: a cursor must be timestamp, timestamptz, date, smallint, integer or bigint${hint}`,
    );
  }
  const refused = columns
    .map((c) => ({ c, reason: untransferableReason(c) }))
    .filter((x) => x.reason !== null)
    .map((x) => `"${x.c.name}" (${x.c.pgType})`);
  if (refused.length > 0) {
    throw new SourceSchemaError(
      `${name} has columns Tally cannot transfer: ${refused.join(', ')}; change them to a type in the README's CSV type mapping, or leave the table out of the configuration`,
    );
  }
  return {
    ...spec,
    primaryKey: [...primaryKey],
    columns: columns.map(({ elementCategory: _, ...column }) => column),
    cursorKind,
    targetName: spec.targetName ?? spec.name.toUpperCase(),
  };
}
