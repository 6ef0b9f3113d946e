// Snowflake's SQL statements on an embedded DuckDB: dispatch by statement kind, a connection per session,
// and Snowflake's transactions (statement-level rollback, DDL committing first). See README.md.
import { rm } from 'node:fs/promises';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResultReader } from '@duckdb/node-api';
import { databaseExists, initLoadHistory, initMetadata, listDatabases, META, schemaExists } from './catalog';
import type { Ctx } from './context';
import { copyInto } from './copy';
import { attachNewDatabase, create, describeTable, drop, grantOrRevoke, showTables } from './ddl';
import { deleteRows, insert, merge, select, truncate, update } from './dml';
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
import { use } from './session';
import {
  Cursor,
  quoteIdent,
  quoteQualified,
  significant,
  sqlString,
  type Token,
  tokenize,
} from './sql-tokens';
import { statementExecuted } from './status';

interface SessionRuntime {
  readonly conn: DuckDBConnection;
  inTransaction: boolean;
  /** Writes done in the open transaction, replayed after a failed statement. */
  log: string[];
  /** Temporary files a replay may read again; removed when the transaction ends. */
  files: string[];
}

type Kind = 'query' | 'ddl' | 'session' | 'transaction';

const ok = () => statementExecuted(STATEMENT_TYPE.SCL);

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:');
  const admin = await instance.connect();
  await admin.run(`ATTACH ${sqlString(options.file)} AS ${quoteIdent(META)}`);
  await initMetadata(admin);
  for (const db of await listDatabases(admin)) {
    await admin.run(`ATTACH ${sqlString(db.file)} AS ${quoteIdent(db.name)}`);
    await initLoadHistory(admin, db.name);
  }
  if (!(await databaseExists(admin, options.defaultDatabase))) {
    await attachNewDatabase({ conn: admin, options }, options.defaultDatabase);
  }
  if (!(await schemaExists(admin, options.defaultDatabase, options.defaultSchema))) {
    await admin.run(`CREATE SCHEMA ${quoteQualified([options.defaultDatabase, options.defaultSchema])}`);
  }
  return new LocalEngine(instance, admin, options);
}

class LocalEngine implements Engine {
  private readonly sessions = new Map<string, SessionRuntime>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly admin: DuckDBConnection,
    private readonly options: EngineOptions,
  ) {}

  /** Runs statements one at a time across all sessions, so that nothing interleaves inside DuckDB. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  execute(sql: string, binds: readonly Bind[], session: SessionState): Promise<QueryResult> {
    return this.serialize(async () => {
      if (this.closed)
        throw new SnowflakeSqlError('000603', 'XX000', 'The local Snowflake stand-in is closed.');
      const rt = await this.runtime(session);
      try {
        return await this.dispatch(rt, sql, binds, session);
      } catch (err) {
        throw toSnowflakeError(err, session);
      } finally {
        session.transaction = rt.inTransaction ? { statements: rt.log.length } : null;
      }
    });
  }

  closeSession(session: SessionState): Promise<void> {
    return this.serialize(async () => {
      const rt = this.sessions.get(session.id);
      if (!rt) return;
      this.sessions.delete(session.id);
      if (rt.inTransaction) await rt.conn.run('ROLLBACK').catch(() => undefined);
      await removeFiles(rt.files);
      rt.conn.closeSync();
      session.transaction = null;
    });
  }

  close(): Promise<void> {
    return this.serialize(async () => {
      if (this.closed) return;
      this.closed = true;
      for (const rt of this.sessions.values()) {
        if (rt.inTransaction) await rt.conn.run('ROLLBACK').catch(() => undefined);
        await removeFiles(rt.files);
        rt.conn.closeSync();
      }
      this.sessions.clear();
      await this.admin.run('CHECKPOINT').catch(() => undefined);
      this.admin.closeSync();
      this.instance.closeSync();
    });
  }

  /** Each session has a DuckDB connection of its own, so that transactions stay apart. */
  private async runtime(session: SessionState): Promise<SessionRuntime> {
    let rt = this.sessions.get(session.id);
    if (!rt) {
      rt = { conn: await this.instance.connect(), inTransaction: false, log: [], files: [] };
      this.sessions.set(session.id, rt);
    }
    return rt;
  }

  /** Points the session's connection at its current database and schema, for unqualified names. */
  private async applySearchPath(rt: SessionRuntime, session: SessionState): Promise<void> {
    let path = 'memory';
    if (session.database && (await databaseExists(rt.conn, session.database))) {
      path =
        session.schema && (await schemaExists(rt.conn, session.database, session.schema))
          ? quoteQualified([session.database, session.schema])
          : quoteIdent(session.database);
    }
    // Always re-applied: DDL (DROP DATABASE) may have moved the connection elsewhere.
    await rt.conn.run(`USE ${path}`);
  }

  private context(rt: SessionRuntime, session: SessionState, binds: readonly Bind[]): Ctx {
    return {
      session,
      binds,
      conn: rt.conn,
      options: this.options,
      inTransaction: rt.inTransaction,
      write: async (sql: string): Promise<DuckDBResultReader> => {
        const reader = await rt.conn.runAndReadAll(sql);
        if (rt.inTransaction) rt.log.push(sql);
        return reader;
      },
      read: (sql: string) => rt.conn.runAndReadAll(sql),
      keepFile: (file: string) => {
        rt.files.push(file);
      },
      translation: (row = 0) => ({ binds, row, session }),
    };
  }

  private async dispatch(
    rt: SessionRuntime,
    sql: string,
    binds: readonly Bind[],
    session: SessionState,
  ): Promise<QueryResult> {
    const tokens = tokenize(sql);
    const sig = significant(tokens);
    const first = sig[0];
    if (!first || (first.text === ';' && sig.length === 1)) {
      throw new SnowflakeSqlError('000900', '42000', 'Empty SQL statement.');
    }
    const head = first.kind === 'op' && first.text === '(' ? 'SELECT' : first.value;
    const kind = classify(head, sig);
    await this.applySearchPath(rt, session);
    const ctx = () => this.context(rt, session, binds);
    switch (kind) {
      case 'transaction':
        return this.transaction(rt, head, sig);
      case 'session': {
        const cur = new Cursor(sig);
        if (head === 'USE') return await use(ctx(), cur);
        if (head === 'SHOW') return await showTables(ctx(), cur);
        if (head === 'DESC' || head === 'DESCRIBE') return await describeTable(ctx(), cur);
        return ok();
      }
      case 'ddl': {
        await this.commitOpen(rt);
        const cur = new Cursor(sig);
        if (head === 'CREATE') return await create(ctx(), cur);
        if (head === 'DROP') return await drop(ctx(), cur);
        return await grantOrRevoke(ctx(), cur);
      }
      case 'query':
        return this.statement(rt, () => runQuery(ctx(), head, tokens));
    }
  }

  /** Runs one statement atomically: its own transaction, or a replayable step of the open one. */
  private async statement(rt: SessionRuntime, fn: () => Promise<QueryResult>): Promise<QueryResult> {
    if (rt.inTransaction) {
      const mark = rt.log.length;
      try {
        return await fn();
      } catch (err) {
        await this.undoStatement(rt, mark);
        throw err;
      }
    }
    await rt.conn.run('BEGIN TRANSACTION');
    try {
      const result = await fn();
      await rt.conn.run('COMMIT');
      return result;
    } catch (err) {
      await rt.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await removeFiles(rt.files.splice(0));
    }
  }

  /** Snowflake's statement-level rollback: undo everything, then redo the statements that succeeded. */
  private async undoStatement(rt: SessionRuntime, mark: number): Promise<void> {
    rt.log.length = mark;
    await rt.conn.run('ROLLBACK').catch(() => undefined);
    await rt.conn.run('BEGIN TRANSACTION');
    try {
      for (const sql of rt.log) await rt.conn.run(sql);
    } catch (err) {
      await rt.conn.run('ROLLBACK').catch(() => undefined);
      rt.inTransaction = false;
      rt.log = [];
      throw new SnowflakeSqlError(
        '000603',
        'XX000',
        `SQL execution internal error: the open transaction could not be restored after a failed statement and was rolled back (${
          err instanceof Error ? err.message.split('\n')[0] : String(err)
        }).`,
      );
    }
  }

  private async commitOpen(rt: SessionRuntime): Promise<void> {
    if (!rt.inTransaction) return;
    rt.inTransaction = false;
    rt.log = [];
    try {
      await rt.conn.run('COMMIT');
    } finally {
      await removeFiles(rt.files.splice(0));
    }
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
        rt.log = [];
      }
      return ok();
    }
    cur.accept('WORK');
    if (!cur.done()) throw cur.unexpected();
    if (!rt.inTransaction) return ok();
    if (head === 'COMMIT') {
      await this.commitOpen(rt).catch(async (err: unknown) => {
        await rt.conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      });
    } else {
      rt.inTransaction = false;
      rt.log = [];
      await rt.conn.run('ROLLBACK');
      await removeFiles(rt.files.splice(0));
    }
    return ok();
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
