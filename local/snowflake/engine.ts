// Snowflake's SQL statements on an embedded DuckDB: dispatch by statement kind, a connection per session whose
// statements run in order while sessions run side by side, Snowflake's transactions (statement-level rollback,
// DDL committing first, table locks), and statements cancelled by timeout, abort or a detached client.
import { rm } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResultReader } from '@duckdb/node-api';
import {
  accountParameters,
  databaseExists,
  initLoadHistory,
  initMetadata,
  listDatabases,
  META,
  ownerOf,
  putAccountParameter,
  putWarehouse,
  schemaExists,
  setOwner,
  warehouseExists,
} from './catalog';
import type { Ctx } from './context';
import { copyInto } from './copy';
import {
  alterTable,
  alterWarehouse,
  attachNewDatabase,
  create,
  describeTable,
  drop,
  grantOrRevoke,
  showResourceMonitors,
  showSchemaObjects,
  showTables,
  showWarehouses,
} from './ddl';
import { deleteRows, insert, select, truncate, update } from './dml';
import {
  type Bind,
  type Engine,
  type EngineOptions,
  type QueryResult,
  type SessionState,
  SnowflakeSqlError,
  STATEMENT_TYPE,
} from './engine-types';
import { toSnowflakeError, unexpectedToken, unsupported } from './errors';
import { LockManager } from './locks';
import { merge } from './merge';
import {
  checkAssignment,
  checkName,
  numberParameter,
  type ParameterLevels,
  type ParameterValue,
  stringParameter,
} from './parameters';
import { insufficientPrivileges, isAccountAdmin, rolesOf } from './privileges';
import { use } from './session';
import { parseParameterValue } from './session-statements';
import {
  Cursor,
  quoteIdent,
  quoteQualified,
  significant,
  splitTopLevel,
  sqlString,
  type Token,
  tokenize,
} from './sql-tokens';
import { statementExecuted } from './status';

interface SessionRuntime {
  readonly id: string;
  readonly conn: DuckDBConnection;
  inTransaction: boolean;
  transactionStartedAt: number;
  /** Writes done in the open transaction, replayed after a failed statement. */
  log: string[];
  /** Writes of the running autocommit statement, replayed after a failed attempt (`Ctx.attempt`). */
  statementLog: string[];
  /** Temporary files a replay may read again; removed when the transaction ends. */
  files: string[];
  /** The session's statements, one after another. */
  queue: Promise<unknown>;
  /** The statement running now, to cancel it. */
  running: AbortController | undefined;
  lastActivity: number;
  /** The TimeZone last set on the connection, so that it is set again only when TIMEZONE changes. */
  timeZone: string | undefined;
  state: SessionState;
}

type Kind = 'query' | 'ddl' | 'session' | 'transaction' | 'account';

const ok = () => statementExecuted(STATEMENT_TYPE.SCL);

/** The longest STATEMENT_TIMEOUT_IN_SECONDS; 0 stands for it. */
const MAX_STATEMENT_SECONDS = 604_800;

function closedError(): SnowflakeSqlError {
  return new SnowflakeSqlError('000603', 'XX000', 'The local Snowflake stand-in is closed.');
}

export function statementTimeoutError(seconds: number): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '000630',
    '57014',
    `Statement reached its statement or warehouse timeout of ${seconds} second(s) and was canceled.`,
  );
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:');
  const admin = await instance.connect();
  await admin.run(`ATTACH ${sqlString(options.file)} AS ${quoteIdent(META)}`);
  await initMetadata(admin);
  for (const db of await listDatabases(admin)) {
    await admin.run(`ATTACH ${sqlString(db.file)} AS ${quoteIdent(db.name)}`);
    await initLoadHistory(admin, db.name);
  }
  const { defaultDatabase: db, defaultSchema: schema, defaultWarehouse: warehouse } = options;
  if (!(await databaseExists(admin, db))) await attachNewDatabase({ conn: admin, options }, db);
  if (!(await schemaExists(admin, db, schema))) {
    await admin.run(`CREATE SCHEMA ${quoteQualified([db, schema])}`);
  }
  if (warehouse && !(await warehouseExists(admin, warehouse))) await putWarehouse(admin, warehouse);
  // The objects the stand-in starts with belong to SYSADMIN, as those an administrator would create.
  const owned: [Parameters<typeof setOwner>[1], string[]][] = [
    ['DATABASE', [db]],
    ['SCHEMA', [db, 'PUBLIC']],
    ['SCHEMA', [db, schema]],
    ...(warehouse ? [['WAREHOUSE', [warehouse]] as [Parameters<typeof setOwner>[1], string[]]] : []),
  ];
  for (const [kind, name] of owned) {
    if (!(await ownerOf(admin, kind, name))) await setOwner(admin, kind, name, 'SYSADMIN');
  }
  const account = (await accountParameters(admin)) as Record<string, ParameterValue>;
  return new LocalEngine(instance, admin, options, account);
}

class LocalEngine implements Engine {
  private readonly sessions = new Map<string, SessionRuntime>();
  private readonly pending = new Map<string, Promise<SessionRuntime>>();
  private readonly locks = new LockManager();
  /** Catalog changes (DDL, grants, ALTER ACCOUNT) one at a time across sessions. */
  private catalogQueue: Promise<unknown> = Promise.resolve();
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    private readonly options: EngineOptions,
    private readonly account: Record<string, ParameterValue>,
  ) {
    // "And it does not block other transactions ... and is older than 4 hours, it is automatically aborted".
    this.sweep = setInterval(() => this.abortStale(), Math.min(60_000, this.maxAgeMs)).unref();
  }

  private get idleMs(): number {
    return this.options.detachedIdleMs ?? 300_000;
  }

  private get maxAgeMs(): number {
    return this.options.detachedMaxAgeMs ?? 4 * 3600_000;
  }

  accountParameters(): Readonly<Record<string, ParameterValue>> {
    return this.account;
  }

  private levels(session: SessionState): ParameterLevels {
    return { session: session.parameters, account: this.account };
  }

  execute(sql: string, binds: readonly Bind[], session: SessionState): Promise<QueryResult> {
    return this.enqueue(session, (rt) => this.run(rt, sql, binds, session));
  }

  touch(session: SessionState): void {
    const rt = this.sessions.get(session.id);
    if (rt) rt.lastActivity = Date.now();
  }

  cancel(session: SessionState, reason: SnowflakeSqlError): void {
    const rt = this.sessions.get(session.id);
    if (rt) this.cancelRunning(rt, reason);
  }

  private cancelRunning(rt: SessionRuntime, reason: SnowflakeSqlError): void {
    const running = rt.running;
    if (!running || running.signal.aborted) return;
    running.abort(reason);
    rt.conn.interrupt();
  }

  closeSession(session: SessionState): Promise<void> {
    if (!this.sessions.has(session.id) && !this.pending.has(session.id)) return Promise.resolve();
    // "An implicit ROLLBACK is executed ... At the end of a session."
    return this.enqueue(session, async (rt) => {
      this.sessions.delete(session.id);
      await this.endTransaction(rt, 'ROLLBACK');
      rt.conn.closeSync();
      session.transaction = null;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    // A running statement (a long COPY) is interrupted rather than waited for, so that the stand-in stops
    // promptly; statements still queued behind it do not start.
    for (const rt of this.sessions.values()) this.cancelRunning(rt, closedError());
    for (const rt of this.sessions.values()) {
      await rt.queue.catch(() => undefined);
      await this.endTransaction(rt, 'ROLLBACK');
      rt.conn.closeSync();
    }
    this.sessions.clear();
    await this.catalogQueue.catch(() => undefined);
    await this.admin.run('CHECKPOINT').catch(() => undefined);
    this.admin.closeSync();
    this.instance.closeSync();
  }

  /** Each session has a DuckDB connection of its own, so that transactions stay apart. */
  private async runtime(session: SessionState): Promise<SessionRuntime> {
    const existing = this.sessions.get(session.id);
    if (existing) {
      existing.state = session;
      return existing;
    }
    let pending = this.pending.get(session.id);
    if (!pending) {
      pending = this.instance.connect().then((conn) => {
        const rt: SessionRuntime = {
          id: session.id,
          conn,
          inTransaction: false,
          transactionStartedAt: 0,
          log: [],
          statementLog: [],
          files: [],
          queue: Promise.resolve(),
          running: undefined,
          lastActivity: Date.now(),
          timeZone: undefined,
          state: session,
        };
        this.sessions.set(session.id, rt);
        this.pending.delete(session.id);
        return rt;
      });
      this.pending.set(session.id, pending);
    }
    return pending;
  }

  /** Runs `fn` after the session's earlier statements: a session's statements never overlap. */
  private async enqueue<T>(session: SessionState, fn: (rt: SessionRuntime) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    const rt = await this.runtime(session);
    const next = () => (this.closed ? Promise.reject(closedError()) : fn(rt));
    const run = rt.queue.then(next, next);
    rt.queue = run.catch(() => undefined);
    return run;
  }

  private async run(
    rt: SessionRuntime,
    sql: string,
    binds: readonly Bind[],
    session: SessionState,
  ): Promise<QueryResult> {
    rt.lastActivity = Date.now();
    const levels = this.levels(session);
    const controller = new AbortController();
    rt.running = controller;
    // STATEMENT_TIMEOUT_IN_SECONDS: "Amount of time, in seconds, after which a running SQL statement ... is
    // canceled by the system"; 0 means the maximum.
    const seconds = numberParameter('STATEMENT_TIMEOUT_IN_SECONDS', levels) || MAX_STATEMENT_SECONDS;
    const timer = setTimeout(() => this.cancelRunning(rt, statementTimeoutError(seconds)), seconds * 1000);
    try {
      return await this.dispatch(rt, sql, binds, session, controller.signal, levels);
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason as SnowflakeSqlError;
      throw toSnowflakeError(err, session);
    } finally {
      clearTimeout(timer);
      rt.running = undefined;
      rt.lastActivity = Date.now();
      session.transaction = rt.inTransaction ? { statements: rt.log.length } : null;
    }
  }

  /** Points the session's connection at its current database and schema, and at its time zone. */
  private async prepare(rt: SessionRuntime, session: SessionState, levels: ParameterLevels): Promise<void> {
    let path = 'memory';
    if (session.database && (await databaseExists(rt.conn, session.database))) {
      path =
        session.schema && (await schemaExists(rt.conn, session.database, session.schema))
          ? quoteQualified([session.database, session.schema])
          : quoteIdent(session.database);
    }
    // Always re-applied: DDL (DROP DATABASE) may have moved the connection elsewhere.
    await rt.conn.run(`USE ${path}`);
    // TIMEZONE decides how a timestamp without an offset is read and what CURRENT_TIMESTAMP's day is.
    const timeZone = stringParameter('TIMEZONE', levels);
    if (timeZone !== rt.timeZone) {
      await rt.conn.run(`SET TimeZone = ${sqlString(timeZone)}`);
      rt.timeZone = timeZone;
    }
  }

  private context(
    rt: SessionRuntime,
    session: SessionState,
    binds: readonly Bind[],
    signal: AbortSignal,
    levels: ParameterLevels,
  ): Ctx {
    const write = async (sql: string): Promise<DuckDBResultReader> => {
      const reader = await rt.conn.runAndReadAll(sql);
      if (rt.inTransaction) rt.log.push(sql);
      else rt.statementLog.push(sql);
      return reader;
    };
    return {
      session,
      binds,
      conn: rt.conn,
      options: this.options,
      inTransaction: rt.inTransaction,
      levels,
      signal,
      throwIfCancelled: () => {
        if (signal.aborted) throw signal.reason as SnowflakeSqlError;
      },
      write,
      read: (sql: string) => rt.conn.runAndReadAll(sql),
      attempt: async (sql: string): Promise<DuckDBResultReader | undefined> => {
        try {
          return await write(sql);
        } catch (err) {
          if (signal.aborted) throw err;
          if (rt.inTransaction) await this.undoStatement(rt, rt.log.length);
          else {
            await rt.conn.run('ROLLBACK').catch(() => undefined);
            await rt.conn.run('BEGIN TRANSACTION');
            for (const done of rt.statementLog) await rt.conn.run(done);
          }
          return undefined;
        }
      },
      keepFile: (file: string) => {
        rt.files.push(file);
      },
      translation: (row = 0) => ({ binds, row, session }),
      lockTable: async (table) => {
        const taken = await this.locks.acquire(rt.id, JSON.stringify(table), {
          timeoutSeconds: numberParameter('LOCK_TIMEOUT', levels),
          signal,
          onBlocked: (holder) => this.watchDetached(holder),
        });
        if (taken) await this.freshSnapshot(rt);
      },
    };
  }

  private async dispatch(
    rt: SessionRuntime,
    sql: string,
    binds: readonly Bind[],
    session: SessionState,
    signal: AbortSignal,
    levels: ParameterLevels,
  ): Promise<QueryResult> {
    const fold =
      levels.session?.QUOTED_IDENTIFIERS_IGNORE_CASE ?? levels.account?.QUOTED_IDENTIFIERS_IGNORE_CASE;
    const tokens = tokenize(sql, { foldQuotedIdentifiers: fold === true });
    const sig = significant(tokens);
    const first = sig[0];
    if (!first || (first.text === ';' && sig.length === 1)) {
      throw new SnowflakeSqlError('000900', '42000', 'Empty SQL statement.');
    }
    const head = first.kind === 'op' && first.text === '(' ? 'SELECT' : first.value;
    const kind = classify(head, sig);
    await this.prepare(rt, session, levels);
    const ctx = () => this.context(rt, session, binds, signal, levels);
    switch (kind) {
      case 'transaction':
        return this.transaction(rt, head, sig);
      case 'account':
        return this.catalog(() => this.alterAccount(ctx(), sig));
      case 'session': {
        const cur = new Cursor(sig);
        if (head === 'USE') return await use(ctx(), cur);
        if (head === 'SHOW') return await show(ctx(), cur, sig);
        if (head === 'DESC' || head === 'DESCRIBE') return await describeTable(ctx(), cur);
        return ok();
      }
      case 'ddl': {
        await this.commitOpen(rt);
        const cur = new Cursor(sig);
        return this.catalog(async () => {
          if (head === 'CREATE') return await create(ctx(), cur);
          if (head === 'DROP') return await drop(ctx(), cur);
          if (head === 'ALTER' && sig[1]?.value === 'TABLE') return await alterTable(ctx(), cur);
          if (head === 'ALTER') return await alterWarehouse(ctx(), cur);
          return await grantOrRevoke(ctx(), cur);
        });
      }
      case 'query':
        return this.statement(rt, signal, () => runQuery(ctx(), head, tokens));
    }
  }

  private catalog<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.catalogQueue.then(fn, fn);
    this.catalogQueue = run.catch(() => undefined);
    return run;
  }

  /** ALTER ACCOUNT SET | UNSET of parameters, which "only account administrators" may do. */
  private async alterAccount(ctx: Ctx, sig: readonly Token[]): Promise<QueryResult> {
    if (!isAccountAdmin(await rolesOf(ctx))) throw insufficientPrivileges('account', 'the account');
    const cur = new Cursor(sig);
    cur.expect('ALTER', 'ACCOUNT');
    if (cur.accept('UNSET')) {
      const names = splitTopLevel(cur.rest()).map((p) =>
        p
          .map((t) => t.text)
          .join('')
          .toUpperCase(),
      );
      for (const name of names) checkName(name);
      for (const name of names) {
        delete this.account[name];
        await putAccountParameter(ctx.conn, name, undefined);
      }
      return ok();
    }
    cur.expect('SET');
    while (!cur.done()) {
      const name = cur.next();
      if (name.kind !== 'word') throw unexpectedToken(name.pos, name.text);
      // ALTER ACCOUNT SET RESOURCE_MONITOR assigns a monitor at the account level, which is no parameter.
      if (name.value === 'RESOURCE_MONITOR') throw unsupported('ALTER ACCOUNT SET RESOURCE_MONITOR');
      cur.expectOp('=');
      const raw =
        cur.peek()?.kind === 'string' ? cur.next().value : parseParameterValue(cur.adjacentText([',']));
      const value = checkAssignment(name.value, raw);
      this.account[name.value] = value;
      await putAccountParameter(ctx.conn, name.value, value);
      cur.acceptOp(',');
    }
    return ok();
  }

  /** Runs one statement atomically: its own transaction, or a replayable step of the open one. */
  private async statement(
    rt: SessionRuntime,
    signal: AbortSignal,
    fn: () => Promise<QueryResult>,
  ): Promise<QueryResult> {
    if (rt.inTransaction) {
      const mark = rt.log.length;
      try {
        const result = await fn();
        if (signal.aborted) throw signal.reason;
        return result;
      } catch (err) {
        await this.undoStatement(rt, mark);
        throw err;
      }
    }
    await rt.conn.run('BEGIN TRANSACTION');
    rt.statementLog = [];
    try {
      const result = await fn();
      if (signal.aborted) throw signal.reason;
      await rt.conn.run('COMMIT');
      return result;
    } catch (err) {
      await rt.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // An autocommit statement's locks last as long as it does.
      rt.statementLog = [];
      this.locks.releaseAll(rt.id);
      await removeFiles(rt.files.splice(0));
    }
  }

  /**
   * A statement that has just taken a table's lock works on the rows committed before it (READ COMMITTED),
   * while DuckDB's transaction still sees the snapshot it began with and would refuse to change a row
   * committed since ("Conflict on update"). Nothing of this statement is written before its lock, so the
   * transaction starts again: at once in autocommit, by replaying its earlier statements in an open one.
   */
  private async freshSnapshot(rt: SessionRuntime): Promise<void> {
    if (rt.inTransaction) return this.undoStatement(rt, rt.log.length);
    await rt.conn.run('ROLLBACK');
    await rt.conn.run('BEGIN TRANSACTION');
  }

  /** Snowflake's statement-level rollback: undo everything, then redo the statements that succeeded. */
  private async undoStatement(rt: SessionRuntime, mark: number): Promise<void> {
    rt.log.length = mark;
    await rt.conn.run('ROLLBACK').catch(() => undefined);
    await rt.conn.run('BEGIN TRANSACTION');
    try {
      for (const sql of rt.log) await rt.conn.run(sql);
    } catch (err) {
      await this.endTransaction(rt, 'ROLLBACK');
      throw new SnowflakeSqlError(
        '000603',
        'XX000',
        `SQL execution internal error: the open transaction could not be restored after a failed statement and was rolled back (${
          err instanceof Error ? err.message.split('\n')[0] : String(err)
        }).`,
      );
    }
  }

  /** Ends the open transaction, if any, and releases its locks ("Locks ... are released on COMMIT or ROLLBACK"). */
  private async endTransaction(rt: SessionRuntime, how: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (!rt.inTransaction) return;
    rt.inTransaction = false;
    rt.log = [];
    try {
      if (how === 'COMMIT') await rt.conn.run('COMMIT');
      else await rt.conn.run('ROLLBACK').catch(() => undefined);
    } finally {
      this.locks.releaseAll(rt.id);
      await removeFiles(rt.files.splice(0));
    }
  }

  private async commitOpen(rt: SessionRuntime): Promise<void> {
    await this.endTransaction(rt, 'COMMIT').catch(async (err: unknown) => {
      await rt.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    });
  }

  private async transaction(rt: SessionRuntime, head: string, sig: readonly Token[]): Promise<QueryResult> {
    const cur = new Cursor(sig);
    cur.next();
    if (head === 'BEGIN' || head === 'START') {
      cur.accept('TRANSACTION') || cur.accept('WORK');
      if (cur.accept('NAME')) cur.ident();
      if (!cur.done()) throw cur.unexpected();
      if (!rt.inTransaction) {
        await rt.conn.run('BEGIN TRANSACTION');
        rt.inTransaction = true;
        rt.transactionStartedAt = Date.now();
        rt.log = [];
      }
      return ok();
    }
    cur.accept('WORK');
    if (!cur.done()) throw cur.unexpected();
    if (head === 'COMMIT') await this.commitOpen(rt);
    else await this.endTransaction(rt, 'ROLLBACK');
    return ok();
  }

  /**
   * A transaction that blocks another, whose session has sent nothing for `detachedIdleMs`, is taken for
   * detached and aborted: "If the transaction ... blocks another transaction from acquiring a lock on the
   * same table and is idle for 5 minutes, it is automatically aborted and rolled back."
   */
  private watchDetached(holder: string): void {
    const rt = this.sessions.get(holder);
    if (!rt?.inTransaction) return;
    const wait = Math.max(0, rt.lastActivity + this.idleMs - Date.now());
    setTimeout(() => {
      if (!rt.inTransaction || rt.running || this.locks.held(rt.id).length === 0) return;
      if (Date.now() - rt.lastActivity < this.idleMs) {
        this.watchDetached(holder);
        return;
      }
      void this.enqueue(rt.state, (r) => this.endTransaction(r, 'ROLLBACK')).then(() => {
        rt.state.transaction = null;
      });
    }, wait + 10).unref();
  }

  private abortStale(): void {
    const now = Date.now();
    for (const rt of this.sessions.values()) {
      if (!rt.inTransaction || rt.running) continue;
      if (now - rt.transactionStartedAt < this.maxAgeMs || now - rt.lastActivity < this.idleMs) continue;
      void this.enqueue(rt.state, (r) => this.endTransaction(r, 'ROLLBACK')).then(() => {
        rt.state.transaction = null;
      });
    }
  }
}

function classify(head: string, sig: readonly Token[]): Kind {
  switch (head) {
    case 'SELECT':
    case 'WITH':
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
    case 'TRUNCATE':
    case 'COPY':
      return 'query';
    case 'BEGIN': {
      const next = sig[1]?.value;
      if (
        next === undefined ||
        next === ';' ||
        next === 'TRANSACTION' ||
        next === 'WORK' ||
        next === 'NAME'
      ) {
        return 'transaction';
      }
      throw unsupported('Snowflake Scripting blocks');
    }
    case 'START':
      if (sig[1]?.value !== 'TRANSACTION') throw unsupported(`START ${sig[1]?.value ?? ''}`.trim());
      return 'transaction';
    case 'COMMIT':
    case 'ROLLBACK':
      return 'transaction';
    case 'CREATE':
    case 'DROP':
    case 'GRANT':
    case 'REVOKE':
      return 'ddl';
    case 'ALTER':
      if (sig[1]?.value === 'SESSION' && (sig[2]?.value === 'SET' || sig[2]?.value === 'UNSET'))
        return 'session';
      if (sig[1]?.value === 'ACCOUNT' && (sig[2]?.value === 'SET' || sig[2]?.value === 'UNSET'))
        return 'account';
      // ALTER WAREHOUSE and ALTER TABLE change the catalog, as DDL does.
      if (sig[1]?.value === 'WAREHOUSE' || sig[1]?.value === 'TABLE') return 'ddl';
      throw unsupported(`ALTER ${sig[1]?.value ?? ''}`.trim());
    case 'USE':
    case 'SHOW':
    case 'DESC':
    case 'DESCRIBE':
      return 'session';
    default:
      if (SNOWFLAKE_STATEMENTS.has(head)) throw unsupported(head);
      throw unexpectedToken(0, sig[0]?.text ?? '');
  }
}

/** SHOW, handed to what it lists: tables, warehouses, resource monitors, or a schema's stages and file formats. */
function show(ctx: Ctx, cur: Cursor, sig: readonly Token[]): Promise<QueryResult> {
  const what = sig[1]?.value;
  if (what === 'TABLES' || what === 'TERSE') return showTables(ctx, cur);
  if (what === 'WAREHOUSES') return showWarehouses(ctx, cur);
  if (what === 'RESOURCE' && sig[2]?.value === 'MONITORS') return showResourceMonitors(ctx, cur);
  return showSchemaObjects(ctx, cur);
}

/** Statement kinds Snowflake has and the stand-in does not run: refused by name, not as a syntax error. */
const SNOWFLAKE_STATEMENTS = new Set([
  'CALL',
  'COMMENT',
  'EXECUTE',
  'EXPLAIN',
  'GET',
  'LIST',
  'LS',
  'PUT',
  'REMOVE',
  'RM',
  'SET',
  'UNSET',
  'UNDROP',
  'DECLARE',
  'LET',
]);

async function runQuery(ctx: Ctx, head: string, tokens: readonly Token[]): Promise<QueryResult> {
  switch (head) {
    case 'INSERT':
      return insert(ctx, tokens);
    case 'UPDATE':
      return update(ctx, tokens);
    case 'DELETE':
      return deleteRows(ctx, tokens);
    case 'MERGE':
      return merge(ctx, tokens);
    case 'TRUNCATE':
      return truncate(ctx, tokens);
    case 'COPY':
      return copyInto(ctx, tokens);
    default:
      return select(ctx, tokens);
  }
}

async function removeFiles(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true, recursive: true })));
}
