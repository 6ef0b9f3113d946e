// Snowflake's query lifecycle as snowflake-sdk follows it: sync and async requests, "in progress" answers,
// results fetched by query id, re-sent requests answered by requestId, query status, and aborts.
import { randomUUID } from 'node:crypto';
import { parseBindings } from './bindings';
import { BoundedMap } from './bounded-map';
import { type Bind, type QueryResult, SnowflakeSqlError } from './engine-types';
import { unsupported } from './errors';
import type { Session } from './session-store';
import { type Envelope, ok, resultData, sqlErrorFailure, sqlFailure } from './wire';

export interface QueryRecord {
  readonly id: string;
  readonly user: string;
  /** Aborted by an abort request, or by its session's end: the statement stops if it has not run yet. */
  readonly abort: AbortController;
  readonly sqlText: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  envelope: Envelope | null;
  readonly done: Promise<Envelope>;
  errorCode?: string;
  errorMessage?: string;
  readonly startTime: number;
  endTime?: number;
}

/**
 * Runs one statement of a session; the registry turns what it returns or throws into the answer. Once
 * `signal` is aborted the statement should end with `statementCanceled()` if it can.
 */
export type StatementRunner = (
  session: Session,
  sqlText: string,
  binds: readonly Bind[],
  signal: AbortSignal,
) => Promise<QueryResult>;

/** How Snowflake answers a statement that was aborted before it finished. */
export function statementCanceled(): SnowflakeSqlError {
  return new SnowflakeSqlError('000604', '57014', 'SQL execution canceled');
}

/** How many finished results stay fetchable through `/queries/{id}/result`. */
const KEPT_RESULTS = 1000;

export class QueryRegistry {
  private readonly queries = new BoundedMap<string, QueryRecord>(KEPT_RESULTS);
  /** `sessionId:requestId` → query id, for requests the driver re-sends after a network error. */
  private readonly byRequestId = new BoundedMap<string, string>(KEPT_RESULTS);
  /** Per session, its statements not finished yet: what ending the session aborts. */
  private readonly unfinished = new Map<number, Set<QueryRecord>>();

  constructor(
    private readonly run: StatementRunner,
    /** How long a synchronous request waits before answering "in progress". */
    private readonly syncWaitMs: number,
    private readonly stats: { queries: number },
  ) {}

  async submit(session: Session, url: URL, body: Record<string, unknown>): Promise<Envelope> {
    const requestId = url.searchParams.get('requestId');
    const retryKey = requestId ? `${session.numericId}:${requestId}` : null;
    const earlier = retryKey ? this.queries.get(this.byRequestId.get(retryKey) ?? '') : undefined;
    if (earlier) return this.answer(earlier, body.asyncExec === true);

    const queryId = randomUUID();
    const sqlText = typeof body.sqlText === 'string' ? body.sqlText : '';
    const abort = new AbortController();
    const done = this.start(session, queryId, sqlText, body, abort.signal);
    const record: QueryRecord = {
      id: queryId,
      user: session.state.user,
      abort,
      sqlText,
      status: 'RUNNING',
      envelope: null,
      done,
      startTime: Date.now(),
    };
    const unfinished = this.unfinished.get(session.numericId) ?? new Set();
    this.unfinished.set(session.numericId, unfinished.add(record));
    void done.then((envelope) => {
      unfinished.delete(record);
      if (unfinished.size === 0) this.unfinished.delete(session.numericId);
      record.envelope = envelope;
      record.endTime = Date.now();
      if (record.status === 'RUNNING') record.status = envelope.success ? 'SUCCESS' : 'FAILED_WITH_ERROR';
      if (!envelope.success) {
        record.errorCode = envelope.code ?? undefined;
        record.errorMessage = envelope.message ?? undefined;
      }
    });
    this.queries.set(record.id, record);
    if (retryKey) this.byRequestId.set(retryKey, queryId);
    this.stats.queries += 1;
    return this.answer(record, body.asyncExec === true);
  }

  /** The statement queued behind the session's earlier ones, or the refusal of a request it cannot run. */
  private start(
    session: Session,
    queryId: string,
    sqlText: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Envelope> {
    const refuse = (what: string) => Promise.resolve(sqlErrorFailure(unsupported(what), queryId));
    const statementParameters = (body.parameters ?? {}) as Record<string, unknown>;
    if (body.describeOnly === true) return refuse('describeOnly statements');
    if (body.bindStage !== undefined) return refuse('binds uploaded to a stage');
    if (
      statementParameters.MULTI_STATEMENT_COUNT !== undefined &&
      Number(statementParameters.MULTI_STATEMENT_COUNT) !== 1
    ) {
      return refuse('multi-statement requests');
    }
    let binds: Bind[];
    try {
      binds = parseBindings(body.bindings);
    } catch (err) {
      return Promise.resolve(sqlFailure('002049', '22000', (err as Error).message, queryId));
    }
    const run = () => this.execute(session, sqlText, binds, queryId, signal);
    const done = session.queue.then(run, run);
    session.queue = done;
    return done;
  }

  private async execute(
    session: Session,
    sqlText: string,
    binds: readonly Bind[],
    queryId: string,
    signal: AbortSignal,
  ): Promise<Envelope> {
    try {
      // Aborted while it waited behind the session's earlier statements: it never runs.
      if (signal.aborted) throw statementCanceled();
      const result = await this.run(session, sqlText, binds, signal);
      return ok(resultData(result, queryId, session.state, session.parameters));
    } catch (err) {
      if (err instanceof SnowflakeSqlError) return sqlErrorFailure(err, queryId);
      return sqlFailure(
        '000603',
        'XX000',
        `SQL execution internal error: ${(err as Error).message ?? String(err)}`,
        queryId,
      );
    }
  }

  /** The finished result, or "in progress" with where to fetch it once the wait runs out. */
  async answer(record: QueryRecord, async: boolean): Promise<Envelope> {
    const inProgress = inProgressEnvelope(record.id, async ? '333334' : '333333');
    if (async) return record.envelope ?? inProgress;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<Envelope>((resolve) => {
      timer = setTimeout(() => resolve(inProgress), this.syncWaitMs);
    });
    try {
      return await Promise.race([record.done, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A query of the session's user; other users' queries stay invisible, as in Snowflake. */
  find(session: Session, id: string): QueryRecord | undefined {
    const record = this.queries.get(id);
    return record && record.user === session.state.user ? record : undefined;
  }

  /**
   * The abort request for a query id. A statement that has not reached the engine, or is held by a
   * statement hook, ends with 000604; one already inside the engine runs to completion.
   */
  abort(session: Session, id: string): void {
    const record = this.find(session, id);
    if (record && record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.abort.abort();
    }
  }

  /**
   * The abort request for a statement by the requestId it was sent with: how snowflake-sdk cancels a
   * statement whose query id it does not know yet, as while a synchronous request still waits
   * (`sendCancelStatement`, lib/connection/statement.js).
   */
  abortRequest(session: Session, requestId: string): void {
    const id = this.byRequestId.get(`${session.numericId}:${requestId}`);
    if (id !== undefined) this.abort(session, id);
  }

  /**
   * Aborts every unfinished statement of a session that is being deleted, so that its transaction is
   * rolled back at once. snowflake-sdk skips the session delete precisely when asked to keep queries
   * running after it disconnects (`serverSessionKeepAlive`, lib/services/sf.js).
   */
  abortSession(session: Session): void {
    for (const record of this.unfinished.get(session.numericId) ?? []) this.abort(session, record.id);
  }
}

/** A query as the monitoring endpoint describes it. */
export function describeQuery(record: QueryRecord) {
  return {
    id: record.id,
    status: record.status,
    state: record.status,
    sqlText: record.sqlText,
    startTime: record.startTime,
    endTime: record.endTime ?? 0,
    totalDuration: (record.endTime ?? Date.now()) - record.startTime,
    errorCode: record.errorCode ?? '',
    errorMessage: record.errorMessage ?? '',
  };
}

export function queryNotFound(queryId: string): Envelope {
  return sqlFailure('000709', '02000', `Statement ${queryId} not found`, queryId);
}

function inProgressEnvelope(queryId: string, code: string): Envelope {
  return {
    data: {
      queryId,
      getResultUrl: `/queries/${queryId}/result`,
      queryAbortsAfterSecs: 300,
      progressDesc: null,
    },
    code,
    message: 'Query execution in progress.',
    success: true,
  };
}
