// Snowflake's query lifecycle as snowflake-sdk follows it: sync and async requests, "in progress" answers,
// results fetched by query id, re-sent requests answered by requestId, and query status.
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
  readonly sqlText: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';
  envelope: Envelope | null;
  readonly done: Promise<Envelope>;
  errorCode?: string;
  errorMessage?: string;
  readonly startTime: number;
  endTime?: number;
}

/** Runs one statement of a session; the registry turns what it returns or throws into the answer. */
export type StatementRunner = (
  session: Session,
  sqlText: string,
  binds: readonly Bind[],
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
  ) {}

  async submit(session: Session, url: URL, body: Record<string, unknown>): Promise<Envelope> {
    const requestId = url.searchParams.get('requestId');
    const retryKey = requestId ? `${session.numericId}:${requestId}` : null;
    const earlier = retryKey ? this.queries.get(this.byRequestId.get(retryKey) ?? '') : undefined;
    if (earlier) return this.answer(earlier, body.asyncExec === true);

    const queryId = randomUUID();
    const sqlText = typeof body.sqlText === 'string' ? body.sqlText : '';
    const done = this.start(session, queryId, sqlText, body);
    const record: QueryRecord = {
      id: queryId,
      user: session.state.user,
      sqlText,
      status: 'RUNNING',
      envelope: null,
      done,
      startTime: Date.now(),
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
    return this.answer(record, body.asyncExec === true);
  }

  /** The statement queued behind the session's earlier ones, or the refusal of a request it cannot run. */
  private start(
    session: Session,
    queryId: string,
    sqlText: string,
    body: Record<string, unknown>,
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
    const run = () => this.execute(session, sqlText, binds, queryId);
    const done = session.queue.then(run, run);
    session.queue = done;
    return done;
  }

  private async execute(
    session: Session,
    sqlText: string,
    binds: readonly Bind[],
    queryId: string,
  ): Promise<Envelope> {
    try {
      const result = await this.run(session, sqlText, binds);
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

  /** Statements run to completion in the engine: an abort only marks a running one as aborted. */
  abort(session: Session, id: string): void {
    const record = this.find(session, id);
    if (record && record.status === 'RUNNING') record.status = 'ABORTED';
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
