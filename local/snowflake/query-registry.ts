// Snowflake's query lifecycle as snowflake-sdk follows it: sync and async requests, "in progress" answers,
// results fetched by query id, re-sent requests answered by requestId, query status, and aborts.
import { randomUUID } from 'node:crypto';
import { parseBindings } from './bindings';
import { BoundedMap } from './bounded-map';
import { type Bind, type QueryResult, SnowflakeSqlError } from './engine-types';
import { unsupported } from './errors';
import type { ParameterValue } from './parameters';
import type { Session } from './session-store';
import { type Envelope, ok, resultData, sqlErrorFailure, sqlFailure } from './wire';

export interface QueryRecord {
  readonly id: string;
  readonly user: string;
  /** Aborted by an abort request, or once its client went away under ABORT_DETACHED_QUERY. */
  readonly abort: AbortController;
  readonly sqlText: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  envelope: Envelope | null;
  readonly done: Promise<Envelope>;
  errorCode?: string;
  errorMessage?: string;
  readonly startTime: number;
  endTime?: number;
  /** Requests waiting for the answer now; none, after one closed unanswered, means the client went away. */
  waiting: number;
  clientGone: boolean;
  readonly session: Session;
}

/** What the registry needs from around it besides running statements. */
export interface RegistryHooks {
  /** The parameters sent back with a result (the session's over the account's). */
  parameters(session: Session): Readonly<Record<string, ParameterValue>>;
  /** Cancels the session's running statement with `reason`. */
  cancel(session: Session, reason: SnowflakeSqlError): void;
  /** Whether ABORT_DETACHED_QUERY is TRUE for the session. */
  abortsDetached(session: Session): boolean;
  /** How long after its client went away a detached query is aborted (Snowflake: 5 minutes). */
  readonly detachedQueryAbortMs: number;
}

/** What a cancelled statement answers (the driver's cancel, or a detached query aborted). */
export function canceledError(): SnowflakeSqlError {
  return new SnowflakeSqlError('000604', '57014', 'SQL execution canceled');
}

/**
 * Runs one statement of a session; the registry turns what it returns or throws into the answer. Once
 * `signal` is aborted the statement should end with `canceledError()` if it can.
 */
export type StatementRunner = (
  session: Session,
  sqlText: string,
  binds: readonly Bind[],
  signal: AbortSignal,
) => Promise<QueryResult>;

/** How many finished results stay fetchable through `/queries/{id}/result`. */
const KEPT_RESULTS = 1000;

export class QueryRegistry {
  private readonly queries = new BoundedMap<string, QueryRecord>(KEPT_RESULTS);
  /** `sessionId:requestId` → query id, for requests the driver re-sends after a network error. */
  private readonly byRequestId = new BoundedMap<string, string>(KEPT_RESULTS);

  constructor(
    private readonly run: StatementRunner,
    /** How long a synchronous request waits before answering "in progress". */
    private readonly syncWaitMs: number,
    private readonly stats: { queries: number },
    private readonly hooks: RegistryHooks,
  ) {}

  async submit(
    session: Session,
    url: URL,
    body: Record<string, unknown>,
    closed?: Promise<void>,
  ): Promise<Envelope> {
    const requestId = url.searchParams.get('requestId');
    const retryKey = requestId ? `${session.numericId}:${requestId}` : null;
    const earlier = retryKey ? this.queries.get(this.byRequestId.get(retryKey) ?? '') : undefined;
    if (earlier) return this.answer(earlier, body.asyncExec === true, closed);

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
      waiting: 0,
      clientGone: false,
      session,
    };
    void done.then((envelope) => {
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
    return this.answer(record, body.asyncExec === true, closed);
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
    const run = () => {
      // A statement cancelled while it waited behind the session's earlier ones does not start.
      if (signal.aborted) return Promise.resolve(sqlErrorFailure(canceledError(), queryId));
      session.current = queryId;
      return this.execute(session, sqlText, binds, queryId, signal).finally(() => {
        session.current = undefined;
      });
    };
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
      const result = await this.run(session, sqlText, binds, signal);
      return ok(resultData(result, queryId, session.state, this.hooks.parameters(session)));
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

  /**
   * The finished result, or "in progress" with where to fetch it once the wait runs out. `closed` settles
   * when the request's connection closes: closing before the answer means the client went away.
   */
  async answer(record: QueryRecord, async: boolean, closed?: Promise<void>): Promise<Envelope> {
    const inProgress = inProgressEnvelope(record.id, async ? '333334' : '333333');
    if (async) return record.envelope ?? inProgress;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<Envelope>((resolve) => {
      timer = setTimeout(() => resolve(inProgress), this.syncWaitMs);
    });
    record.waiting++;
    record.clientGone = false;
    let answered = false;
    void closed?.then(() => {
      if (!answered) this.lostClient(record);
    });
    try {
      return await Promise.race([record.done, waited]);
    } finally {
      answered = true;
      record.waiting--;
      clearTimeout(timer);
    }
  }

  /**
   * A running query whose client went away (its request closed unanswered, or its session was deleted):
   * with ABORT_DETACHED_QUERY = TRUE, "In-progress queries are aborted 5 minutes after connectivity is
   * lost"; with FALSE, "In-progress queries are completed".
   */
  lostClient(record: QueryRecord): void {
    if (record.status !== 'RUNNING' || record.waiting > 1) return;
    record.clientGone = true;
    setTimeout(() => {
      if (record.status !== 'RUNNING' || !record.clientGone || record.waiting > 0) return;
      if (!this.hooks.abortsDetached(record.session)) return;
      this.stop(record);
    }, this.hooks.detachedQueryAbortMs).unref();
  }

  /** The session's running queries, which lose their client when the session is deleted. */
  running(session: Session): QueryRecord[] {
    return this.queries.values().filter((r) => r.session === session && r.status === 'RUNNING');
  }

  /** A query of the session's user; other users' queries stay invisible, as in Snowflake. */
  find(session: Session, id: string): QueryRecord | undefined {
    const record = this.queries.get(id);
    return record && record.user === session.state.user ? record : undefined;
  }

  /**
   * The abort request for a query id: the driver's cancel of a running statement. It stops (a statement
   * held by a statement hook, or still queued, never runs; one inside the engine is interrupted and rolled
   * back) and answers 000604.
   */
  abort(session: Session, id: string): void {
    const record = this.find(session, id);
    if (record && record.status === 'RUNNING') this.stop(record);
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

  private stop(record: QueryRecord): void {
    record.status = 'ABORTED';
    record.abort.abort(canceledError());
    if (record.session.current === record.id) this.hooks.cancel(record.session, canceledError());
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
