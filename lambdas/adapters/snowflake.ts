// The warehouse port on Snowflake through snowflake-sdk: key-pair sign-in (a password only for local
// use), one connection kept across warm Lambda invocations, statement timeouts, COPY/MERGE loads whose
// every file is checked, counts, and the audit table. Driver errors become the domain's named errors.
import { createHash, randomBytes } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { S3Config, SnowflakeConfig } from '../config';
import { AUDIT_COLUMNS, type AuditEvent } from '../domain/audit';
import {
  InvalidConfigError,
  InvalidInputError,
  LoadIncompleteError,
  TallyError,
  WarehouseAuthError,
  WarehouseConversionError,
  WarehouseError,
  WarehouseObjectMissingError,
  WarehousePermissionError,
  WarehouseSyntaxError,
  WarehouseThrottledError,
  WarehouseUnavailableError,
} from '../domain/errors';
import type { ResolvedTable } from '../domain/table';
import type { AuditFilter, FileLoadResult, LoadResult, Slice, TableLease, Warehouse } from '../ports';
import { NETWORK_CODES } from './network';
import { bootstrapStatements, qualified, stageUrl } from './snowflake-ddl';
import { targetColumn } from './snowflake-types';

// The driver would print its own errors to standard output; every one it raises reaches the caller as a
// named domain error, logged once by the step that failed.
snowflake.configure({ logLevel: 'OFF' });

/** Snowflake takes at most 1,000 names in one FILES list. */
const MAX_FILES_PER_COPY = 1000;
/** Rows per audit INSERT: array binds stay well below the driver's stage-upload threshold. */
const AUDIT_BATCH = 500;
/** The lease table: one row per table being loaded, naming the execution that may load it. */
export const LOCK_TABLE = 'TALLY_LOCKS';

type Row = Record<string, unknown>;
type Bind = snowflake.Bind;

// One connection per configuration, kept for the life of the process: a warm Lambda reuses it.
const connections = new Map<string, Promise<snowflake.Connection>>();

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

function run(connection: snowflake.Connection, sqlText: string, binds?: snowflake.Binds): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    connection.execute({
      sqlText,
      ...(binds !== undefined ? { binds } : {}),
      complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
    });
  });
}

/** Destroys every connection kept warm (adapters that are not warm close their own in close()). */
export async function closeSnowflakeConnections(): Promise<void> {
  const open = [...connections.values()];
  connections.clear();
  await Promise.allSettled(
    open.map(async (pending) => {
      const connection = await pending;
      await new Promise<void>((resolve) => connection.destroy(() => resolve()));
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Errors

interface DriverError {
  readonly name?: string;
  readonly code?: string | number;
  readonly sqlState?: string;
  readonly message?: string;
  readonly cause?: { readonly code?: string };
  readonly response?: { readonly statusCode?: number };
}

const SESSION_GONE = new Set(['390111', '390112', '390114', '390104']);
const AUTH_CODES = new Set(['390100', '390144', '390101', '390189', '390102', '390422']);
const SYNTAX_CODES = new Set(['001003', '000904', '000900', '001007', '002020', '002049']);
const CONVERSION = /^1000[0-9]{2}$/;

/** The first line of the service's message, which names the object or value but no credential. */
function detail(err: DriverError): string {
  return (err.message ?? String(err))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join(' ')
    .slice(0, 500);
}

/** Maps a snowflake-sdk error to the domain's named error; `what` says what Tally was doing. */
export function toWarehouseError(err: unknown, what: string): TallyError {
  if (err instanceof TallyError) return err;
  const e = (err ?? {}) as DriverError;
  const code = e.code === undefined ? '' : String(e.code);
  const text = detail(e);
  const options = { cause: err };
  const status = e.response?.statusCode;
  if (e.name === 'NetworkError' || NETWORK_CODES.has(e.cause?.code ?? '') || NETWORK_CODES.has(code)) {
    return new WarehouseUnavailableError(
      `${what}: Snowflake could not be reached (${text}); check snowflake.accessUrl or the account name and the network, then retry`,
      options,
    );
  }
  if (status === 429 || /throttl|too many requests|queue.*full/i.test(text)) {
    return new WarehouseThrottledError(
      `${what}: Snowflake is throttling requests (${text}); retry later`,
      options,
    );
  }
  if (status !== undefined && status >= 500) {
    return new WarehouseUnavailableError(`${what}: Snowflake answered HTTP ${status}; retry later`, options);
  }
  if (code === '407002') {
    return new WarehouseUnavailableError(
      `${what}: the Snowflake connection was closed under the statement (407002); a retry opens a new one`,
      options,
    );
  }
  if (SESSION_GONE.has(code)) {
    return new WarehouseUnavailableError(
      `${what}: the Snowflake session expired (${code}); a retry signs in again`,
      options,
    );
  }
  if (AUTH_CODES.has(code) || status === 401 || status === 403) {
    return new WarehouseAuthError(
      `${what}: Snowflake refused the sign-in (${code || status}: ${text}); check snowflake.account, snowflake.username and the private key (its public key must be registered with ALTER USER ... SET RSA_PUBLIC_KEY) or password, and that snowflake.role is granted to the user`,
      options,
    );
  }
  if (code === '002003' || code === '002043') {
    return new WarehouseObjectMissingError(
      `${what}: ${text} (Snowflake ${code}); run the bootstrap (tally run) or the administrator's script (tally snowflake-ddl), and check snowflake.database and snowflake.schema`,
      options,
    );
  }
  if (SYNTAX_CODES.has(code)) {
    return new WarehouseSyntaxError(
      `${what}: ${text} (Snowflake ${code}); the statement names a column or uses syntax the target does not accept, check the target table's columns against the source`,
      options,
    );
  }
  if (code === '003001' || code === '003011' || /insufficient privileges/i.test(text)) {
    return new WarehousePermissionError(
      `${what}: ${text} (Snowflake ${code}); grant the missing privilege to snowflake.role (see tally snowflake-ddl)`,
      options,
    );
  }
  if (CONVERSION.test(code) && code !== '100090') {
    return new WarehouseConversionError(
      `${what}: ${text} (Snowflake ${code}); a staged value does not fit its target column type, compare the column with the README's Snowflake type mapping`,
      options,
    );
  }
  if (code === '100090') {
    return new WarehouseError(
      `${what}: ${text} (Snowflake 100090); the staged rows hold the same primary key twice`,
      options,
    );
  }
  if (code === '000630') {
    return new WarehouseError(
      `${what}: the statement ran past snowflake.statementTimeoutSeconds and was cancelled; raise it or use a larger warehouse`,
      options,
    );
  }
  if (code === '000603') {
    return new WarehouseUnavailableError(
      `${what}: Snowflake reported an internal error (${text}); retry`,
      options,
    );
  }
  if (code === '000002') {
    return new WarehouseError(`${what}: ${text} (Snowflake 000002: unsupported feature)`, options);
  }
  return new WarehouseError(`${what}: ${text}${code ? ` (Snowflake ${code})` : ''}`, options);
}

// ---------------------------------------------------------------------------------------------------------
// The adapter

export interface SnowflakeWarehouseOptions {
  /**
   * Keep the connection open when `close()` is called, for the next warm invocation. Default: true in
   * AWS Lambda, false elsewhere (so a command-line process can end).
   */
  readonly keepWarm?: boolean;
}

export class SnowflakeWarehouse implements Warehouse {
  private readonly key: string;
  private readonly keepWarm: boolean;
  /**
   * Warm: the process-wide cache, shared with the next invocation. Otherwise this adapter's own, so that
   * closing it cannot end a statement another adapter in the same process (another execution run by
   * the local runner) has in flight.
   */
  private readonly connections: Map<string, Promise<snowflake.Connection>>;

  constructor(
    private readonly config: SnowflakeConfig,
    private readonly s3: Pick<S3Config, 'bucket' | 'prefix'>,
    options: SnowflakeWarehouseOptions = {},
  ) {
    this.key = cacheKey(config);
    this.keepWarm = options.keepWarm ?? process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
    this.connections = this.keepWarm ? connections : new Map();
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

  /** Runs one statement; an expired or broken session is dropped so the retry signs in afresh. */
  private async query(what: string, sqlText: string, binds?: snowflake.Binds): Promise<Row[]> {
    const connection = await this.connection();
    try {
      return await run(connection, sqlText, binds);
    } catch (err) {
      const mapped = toWarehouseError(err, what);
      if (mapped instanceof WarehouseUnavailableError) this.connections.delete(this.key);
      throw mapped;
    }
  }

  private table(t: ResolvedTable): string {
    return qualified(this.config, t.targetName);
  }

  async bootstrap(tables: readonly ResolvedTable[]): Promise<void> {
    if (this.config.accessUrl === undefined && this.config.storageIntegration === undefined) {
      throw new InvalidConfigError(
        'snowflake.storageIntegration: set it to the storage integration that lets Snowflake read the bucket (tally snowflake-ddl creates one)',
      );
    }
    for (const sql of bootstrapStatements(this.config, this.s3, tables)) {
      await this.query('creating Tally objects in Snowflake', sql);
    }
    await this.query(
      'creating Tally objects in Snowflake',
      `CREATE TABLE IF NOT EXISTS ${qualified(this.config, LOCK_TABLE)} (TABLE_NAME VARCHAR NOT NULL, EXECUTION_ID VARCHAR NOT NULL, ACQUIRED_AT TIMESTAMP_TZ(6) NOT NULL, EXPIRES_AT TIMESTAMP_TZ(6) NOT NULL)`,
    );
  }

  /** Staged keys as names relative to the stage URL, which is where FILES looks. */
  private stageFiles(keys: readonly string[]): string[] {
    const prefix = stageUrl(this.s3).slice(`s3://${this.s3.bucket}/`.length);
    return keys.map((key) => {
      if (!key.startsWith(prefix) || key.length === prefix.length) {
        throw new InvalidInputError(
          `staged key '${key}' is not under the stage prefix '${prefix}' (s3.prefix)`,
        );
      }
      return key.slice(prefix.length);
    });
  }

  private async copy(
    target: string,
    files: readonly string[],
    force: boolean,
    what: string,
    exec: (sql: string) => Promise<Row[]> = (sql) => this.query(what, sql),
  ): Promise<FileLoadResult[]> {
    const results: FileLoadResult[] = [];
    for (let i = 0; i < files.length; i += MAX_FILES_PER_COPY) {
      const batch = files.slice(i, i + MAX_FILES_PER_COPY);
      const sql = [
        `COPY INTO ${target} FROM @${qualified(this.config, this.config.stage)}`,
        `FILES = (${batch.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')})`,
        `FILE_FORMAT = (FORMAT_NAME = '${qualified(this.config, this.config.fileFormat)}')`,
        `ON_ERROR = ABORT_STATEMENT${force ? ' FORCE = TRUE' : ''}`,
      ].join(' ');
      const rows = await exec(sql);
      results.push(...fileResults(rows, batch, stageUrl(this.s3)));
    }
    return results;
  }

  async copyInto(
    table: ResolvedTable,
    keys: readonly string[],
    options: { force?: boolean } = {},
  ): Promise<LoadResult> {
    const files = await this.copy(
      this.table(table),
      this.stageFiles(keys),
      options.force ?? false,
      `loading ${table.targetName}`,
    );
    // A skipped file was loaded into this table by an earlier COPY (a retried step): it is counted as
    // already there, with its status kept so the ledger can say so; anything else not LOADED fails.
    checkFiles(files, table.targetName, ['LOADED', 'LOAD_SKIPPED']);
    return summarize(files);
  }

  /**
   * Historical load: the target becomes exactly the staged files. The DELETE and the COPY run in one
   * transaction on a connection of their own (a shared one would mix in other tables' statements), so a
   * rerun replaces rows instead of adding them and a failure leaves the previous content. FORCE, since a
   * retry stages the same keys, which load history would otherwise skip after the DELETE.
   */
  async replaceWith(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const target = this.table(table);
    const what = `replacing the rows of ${table.targetName}`;
    const files = this.stageFiles(keys);
    const connection = await openConnection(this.config).catch((err) => {
      throw toWarehouseError(err, 'signing in to Snowflake');
    });
    const exec = (sql: string) =>
      run(connection, sql).catch((err) => Promise.reject(toWarehouseError(err, what)));
    try {
      await exec('BEGIN');
      try {
        await exec(`DELETE FROM ${target}`);
        const results = await this.copy(target, files, true, what, exec);
        checkFiles(results, table.targetName, ['LOADED']);
        await exec('COMMIT');
        return summarize(results);
      } catch (err) {
        // Snowflake rolls back only the failed statement of a transaction: end the whole one here.
        await exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await new Promise<void>((resolve) => connection.destroy(() => resolve()));
    }
  }

  async merge(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const target = this.table(table);
    // Named per call, so two loads of one table never share a staging table.
    const staging = qualified(
      this.config,
      `${table.targetName}_STAGING_${randomBytes(4).toString('hex').toUpperCase()}`,
    );
    const what = `merging into ${table.targetName}`;
    const stageFiles = this.stageFiles(keys);
    await this.query(what, `CREATE OR REPLACE TRANSIENT TABLE ${staging} LIKE ${target}`);
    try {
      // A fresh staging table has no load history; FORCE keeps it that way even if it was not replaced.
      const files = await this.copy(staging, stageFiles, true, what);
      checkFiles(files, table.targetName, ['LOADED']);
      const summary = summarize(files);
      const keyCols = table.primaryKey.map(targetColumn);
      const columns = table.columns.map((c) => targetColumn(c.name));
      const others = columns.filter((c) => !keyCols.includes(c));
      const on = keyCols.map((k) => `t.${k} = s.${k}`).join(' AND ');
      // A row never moves backwards: re-running an older window after a newer load leaves the target
      // as it is. An equal cursor updates (a no-op for the same version), so a rerun changes nothing.
      const cursor = targetColumn(table.cursorColumn);
      const newer = `(t.${cursor} IS NULL OR s.${cursor} >= t.${cursor})`;
      const update =
        others.length === 0
          ? ''
          : ` WHEN MATCHED AND ${newer} THEN UPDATE SET ${others.map((c) => `${c} = s.${c}`).join(', ')}`;
      const rows = await this.query(
        what,
        `MERGE INTO ${target} t USING ${staging} s ON ${on}${update} WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`,
      );
      const row = rows[0] ?? {};
      const inserted = Number(row['number of rows inserted'] ?? 0);
      const updated = Number(row['number of rows updated'] ?? 0);
      return { ...summary, inserted, updated };
    } finally {
      await this.query(what, `DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  async count(table: ResolvedTable, slice: Slice): Promise<number> {
    const binds: Bind[] = [];
    let where = '';
    if (slice.kind !== 'all') {
      const window = slice.kind === 'window' ? slice.window : slice.range;
      const column = targetColumn(slice.kind === 'window' ? table.cursorColumn : singleKey(table));
      const conditions: string[] = [];
      if (window.from !== null) {
        conditions.push(`${column} >= ?`);
        binds.push(window.from);
      }
      if (window.to !== null) {
        conditions.push(`${column} < ?`);
        binds.push(window.to);
      }
      if (conditions.length > 0) where = ` WHERE ${conditions.join(' AND ')}`;
    }
    const rows = await this.query(
      `counting ${table.targetName}`,
      `SELECT COUNT(*) AS N FROM ${this.table(table)}${where}`,
      binds,
    );
    return Number(rows[0]?.N ?? 0);
  }

  async insertAudit(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const columns = AUDIT_COLUMNS.map((c) => c.column).join(', ');
    const placeholders = AUDIT_COLUMNS.map(() => '?').join(', ');
    const sql = `INSERT INTO ${qualified(this.config, this.config.auditTable)} (${columns}) VALUES (${placeholders})`;
    for (let i = 0; i < events.length; i += AUDIT_BATCH) {
      const rows = events.slice(i, i + AUDIT_BATCH).map(auditBinds);
      // One row binds positionally; several go as array binds (one round trip).
      await this.query('writing audit events', sql, rows.length === 1 ? rows[0] : rows);
    }
  }

  async readAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const conditions: string[] = [];
    const binds: Bind[] = [];
    if (filter.jobId !== undefined) {
      conditions.push('JOB_ID = ?');
      binds.push(filter.jobId);
    }
    if (filter.executionId !== undefined) {
      conditions.push('EXECUTION_ID = ?');
      binds.push(filter.executionId);
    }
    if (filter.table !== undefined) {
      conditions.push('(SOURCE_TABLE = ? OR TARGET_TABLE = ?)');
      binds.push(filter.table, filter.table);
    }
    if (filter.since !== undefined) {
      conditions.push('CREATED_AT >= ?::TIMESTAMP_TZ');
      binds.push(filter.since);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const select = AUDIT_COLUMNS.map((c) => c.column).join(', ');
    const rows = await this.query(
      'reading the audit log',
      `SELECT ${select} FROM ${qualified(this.config, this.config.auditTable)}${where} ORDER BY CREATED_AT, EVENT_ID`,
      binds,
    );
    return rows.map(auditEvent);
  }

  async acquireLease(table: string, executionId: string, now: Date, ttlMs: number): Promise<TableLease> {
    const locks = qualified(this.config, LOCK_TABLE);
    const what = `taking the lease on ${table}`;
    // A MERGE, not a read then a write: Snowflake runs MERGEs on one table one at a time, so two
    // executions cannot both see the table free.
    await this.query(
      what,
      `MERGE INTO ${locks} t USING (SELECT ? AS TABLE_NAME, ? AS EXECUTION_ID, ?::TIMESTAMP_TZ AS ACQUIRED_AT, ?::TIMESTAMP_TZ AS EXPIRES_AT) s ON t.TABLE_NAME = s.TABLE_NAME` +
        ' WHEN MATCHED AND t.EXECUTION_ID = s.EXECUTION_ID THEN UPDATE SET EXPIRES_AT = s.EXPIRES_AT' +
        ' WHEN MATCHED AND t.EXPIRES_AT <= s.ACQUIRED_AT THEN UPDATE SET EXECUTION_ID = s.EXECUTION_ID, ACQUIRED_AT = s.ACQUIRED_AT, EXPIRES_AT = s.EXPIRES_AT' +
        ' WHEN NOT MATCHED THEN INSERT (TABLE_NAME, EXECUTION_ID, ACQUIRED_AT, EXPIRES_AT) VALUES (s.TABLE_NAME, s.EXECUTION_ID, s.ACQUIRED_AT, s.EXPIRES_AT)',
      [table, executionId, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString()],
    );
    // Oldest first: should two rows ever exist for one table, every reader names the same holder.
    const rows = await this.query(
      what,
      `SELECT EXECUTION_ID, ACQUIRED_AT, EXPIRES_AT FROM ${locks} WHERE TABLE_NAME = ? AND EXPIRES_AT > ?::TIMESTAMP_TZ ORDER BY ACQUIRED_AT, EXECUTION_ID LIMIT 1`,
      [table, now.toISOString()],
    );
    const row = rows[0];
    if (!row) throw new WarehouseError(`${what}: the lease row was not found after it was written`);
    const instant = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
    return {
      table,
      executionId: String(row.EXECUTION_ID),
      acquiredAt: instant(row.ACQUIRED_AT),
      expiresAt: instant(row.EXPIRES_AT),
    };
  }

  async releaseLease(table: string, executionId: string): Promise<void> {
    await this.query(
      `releasing the lease on ${table}`,
      `DELETE FROM ${qualified(this.config, LOCK_TABLE)} WHERE TABLE_NAME = ? AND EXECUTION_ID = ?`,
      [table, executionId],
    );
  }

  async close(): Promise<void> {
    if (this.keepWarm) return;
    const pending = this.connections.get(this.key);
    this.connections.delete(this.key);
    const connection = await pending?.catch(() => null);
    if (connection) await new Promise<void>((resolve) => connection.destroy(() => resolve()));
  }
}

function singleKey(table: ResolvedTable): string {
  const [key, ...rest] = table.primaryKey;
  if (key === undefined || rest.length > 0) {
    throw new InvalidInputError(
      `a key range needs a single-column primary key; ${table.name} has ${table.primaryKey.length}`,
    );
  }
  return key;
}

/** Per-file results of a COPY, in the order of `files`. A file the service left out was skipped. */
function fileResults(rows: readonly Row[], files: readonly string[], url: string): FileLoadResult[] {
  const byName = new Map<string, Row>();
  for (const row of rows) {
    const file = row.file;
    if (typeof file !== 'string') continue;
    byName.set(file.startsWith(url) ? file.slice(url.length) : file, row);
  }
  return files.map((file) => {
    const row = byName.get(file);
    // Snowflake answers "Copy executed with 0 files processed." when every file was loaded before.
    if (!row) return { file, status: 'LOAD_SKIPPED', rowsParsed: 0, rowsLoaded: 0, firstError: null };
    return {
      file,
      status: String(row.status) as FileLoadResult['status'],
      rowsParsed: Number(row.rows_parsed ?? 0),
      rowsLoaded: Number(row.rows_loaded ?? 0),
      firstError: typeof row.first_error === 'string' ? row.first_error : null,
    };
  });
}

function checkFiles(
  files: readonly FileLoadResult[],
  table: string,
  accepted: readonly FileLoadResult['status'][],
): void {
  for (const f of files) {
    if (!accepted.includes(f.status)) {
      throw new LoadIncompleteError(
        `loading ${table}: file ${f.file} ended ${f.status}${f.firstError ? ` (${f.firstError})` : ''}; nothing of this COPY was kept`,
      );
    }
    if (f.rowsParsed !== f.rowsLoaded) {
      throw new LoadIncompleteError(
        `loading ${table}: file ${f.file} parsed ${f.rowsParsed} rows but loaded ${f.rowsLoaded}`,
      );
    }
  }
}

function summarize(files: readonly FileLoadResult[]): LoadResult {
  return {
    files,
    rowsParsed: files.reduce((n, f) => n + f.rowsParsed, 0),
    rowsLoaded: files.reduce((n, f) => n + f.rowsLoaded, 0),
  };
}

function auditBinds(event: AuditEvent): Bind[] {
  return AUDIT_COLUMNS.map(({ column, field, kind }) => {
    const value = event[field];
    if (value === null || value === undefined) return null;
    if (kind === 'boolean') return Boolean(value);
    if (kind === 'integer') return Number(value);
    // The hash chain covers the exact text: only the form that reads back identically may be stored.
    if (kind === 'timestamp' && !isCanonicalInstant(String(value))) {
      throw new InvalidInputError(
        `audit event ${event.eventId}: ${column} must be an ISO-8601 UTC instant as Date.toISOString() writes it, got '${String(value)}'`,
      );
    }
    return String(value);
  });
}

function isCanonicalInstant(value: string): boolean {
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}

function auditEvent(row: Row): AuditEvent {
  const event: Record<string, unknown> = {};
  for (const { column, field, kind } of AUDIT_COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) event[field] = null;
    else if (kind === 'timestamp') event[field] = value instanceof Date ? value.toISOString() : String(value);
    else if (kind === 'integer') event[field] = Number(value);
    else if (kind === 'boolean')
      event[field] = value === true || value === 'true' || value === 'TRUE' || value === '1';
    else event[field] = String(value);
  }
  return event as unknown as AuditEvent;
}
