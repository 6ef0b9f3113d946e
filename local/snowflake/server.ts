// The Snowflake stand-in's HTTP side: the endpoints snowflake-sdk calls (login, token renewal, heartbeat,
// session delete, telemetry, query-request, results, status, abort), sessions and their tokens. Statements
// go to an Engine; this module only speaks the protocol. It logs nothing, so no secret can leak from it.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { type Directory, LoginRefused, normalizeIdentifier, runUserStatement } from './auth';
import {
  type Bind,
  type Engine,
  type QueryResult,
  type SessionState,
  SnowflakeSqlError,
  STATEMENT_TYPE,
} from './engine-types';
import {
  type Envelope,
  failure,
  ok,
  type ParameterValue,
  parameterList,
  resultData,
  sqlFailure,
  statusResult,
} from './wire';

const gunzipAsync = promisify(gunzip);

export interface ServerOptions {
  readonly engine: Engine;
  readonly directory: Directory;
  /** Namespace and warehouse a session starts in when the driver names none. */
  readonly defaults: { readonly database: string; readonly schema: string; readonly warehouse: string };
  /** Session token lifetime; the driver renews it with the master token when it expires. Default 3600. */
  readonly sessionValiditySeconds?: number;
  /** Master token lifetime; after it the driver must log in again. Default 14400. */
  readonly masterValiditySeconds?: number;
  /** How long a synchronous query-request waits before answering "in progress" (333333). Default 40 s. */
  readonly syncWaitMs?: number;
  readonly port?: number;
  /** Consulted around every statement to inject faults in tests; none by default (see `StatementHook`). */
  readonly statementHook?: StatementHook;
}

/**
 * Called with a statement's text before it runs and after it ran. Throwing a `SnowflakeSqlError` answers
 * the statement with that error (after it ran: although its effects stay, as when a response is lost);
 * awaiting delays the answer.
 */
export type StatementHook = (sqlText: string, phase: 'before' | 'after') => Promise<void>;

export interface ServerStats {
  logins: number;
  renewals: number;
  queries: number;
}

export interface StandInServer {
  readonly url: string;
  readonly port: number;
  readonly stats: Readonly<ServerStats>;
  close(): Promise<void>;
}

interface Session {
  readonly state: SessionState;
  readonly numericId: number;
  token: string;
  tokenExpiresAt: number;
  masterToken: string;
  masterExpiresAt: number;
  readonly parameters: Record<string, ParameterValue>;
  /** Statements of one session run one after another, as in Snowflake. */
  queue: Promise<unknown>;
  closed: boolean;
}

interface QueryRecord {
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

/** How many finished results stay fetchable through `/queries/{id}/result`. */
const KEPT_RESULTS = 1000;
const CLOSED_SESSIONS_KEPT = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly envelope: Envelope,
  ) {
    super(envelope.message ?? 'error');
  }
}

const tokenInvalid = () =>
  new HttpError(401, failure('390104', 'Invalid session token. New login required to access the service.'));

export async function startServer(options: ServerOptions): Promise<StandInServer> {
  const { engine, directory } = options;
  const sessionValidity = options.sessionValiditySeconds ?? 3600;
  const masterValidity = options.masterValiditySeconds ?? 14_400;
  const syncWaitMs = options.syncWaitMs ?? 40_000;
  const byToken = new Map<string, Session>();
  const byMaster = new Map<string, Session>();
  const closedTokens = new Set<string>();
  const queries = new Map<string, QueryRecord>();
  const byRequestId = new Map<string, string>();
  const stats: ServerStats = { logins: 0, renewals: 0, queries: 0 };

  const newToken = () => randomBytes(32).toString('base64url');

  function authenticate(req: IncomingMessage, kind: 'session' | 'master'): Session {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Snowflake Token="([^"]+)"$/.exec(header);
    if (!match?.[1]) {
      throw new HttpError(401, failure('390101', 'Authorization header not found in the request data.'));
    }
    const token = match[1];
    const session = kind === 'session' ? byToken.get(token) : byMaster.get(token);
    if (!session) {
      if (closedTokens.has(token)) {
        throw new HttpError(
          200,
          failure('390111', 'Session no longer exists.  New login required to access the service.'),
        );
      }
      throw tokenInvalid();
    }
    const now = Date.now();
    if (kind === 'master' && session.masterExpiresAt <= now) {
      throw new HttpError(
        200,
        failure('390114', 'Authentication token has expired.  The user must authenticate again.'),
      );
    }
    if (kind === 'session' && session.tokenExpiresAt <= now) {
      throw new HttpError(
        200,
        failure('390112', 'Session token has expired.  Renew it with the master token.'),
      );
    }
    return session;
  }

  function forgetSession(session: Session): void {
    session.closed = true;
    byToken.delete(session.token);
    byMaster.delete(session.masterToken);
    closedTokens.add(session.token);
    if (closedTokens.size > CLOSED_SESSIONS_KEPT) {
      const oldest = closedTokens.values().next().value;
      if (oldest !== undefined) closedTokens.delete(oldest);
    }
  }

  async function login(url: URL, body: Record<string, unknown>): Promise<Envelope> {
    const data = (body.data ?? {}) as Record<string, unknown>;
    const account = String(data.ACCOUNT_NAME ?? '');
    const loginName = String(data.LOGIN_NAME ?? '');
    const authenticator = String(data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    try {
      let user: string;
      if (authenticator === 'SNOWFLAKE') user = directory.checkPassword(account, loginName, data.PASSWORD);
      else if (authenticator === 'SNOWFLAKE_JWT') user = directory.checkJwt(account, loginName, data.TOKEN);
      else {
        throw new LoginRefused(
          '390100',
          `Authenticator ${authenticator} is not supported by the local Snowflake stand-in: use a password or SNOWFLAKE_JWT.`,
        );
      }
      const param = (name: string) => url.searchParams.get(name) ?? undefined;
      const role = directory.chooseRole(user, param('roleName'));
      const numericId = randomInt(1, 2 ** 47);
      const now = Date.now();
      const session: Session = {
        state: {
          id: String(numericId),
          user,
          role,
          database: normalizeIdentifier(param('databaseName') ?? options.defaults.database),
          schema: normalizeIdentifier(param('schemaName') ?? options.defaults.schema),
          warehouse: normalizeIdentifier(param('warehouse') ?? options.defaults.warehouse),
          transaction: undefined,
        },
        numericId,
        token: newToken(),
        tokenExpiresAt: now + sessionValidity * 1000,
        masterToken: newToken(),
        masterExpiresAt: now + masterValidity * 1000,
        parameters: {},
        queue: Promise.resolve(),
        closed: false,
      };
      byToken.set(session.token, session);
      byMaster.set(session.masterToken, session);
      stats.logins += 1;
      return ok({
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: sessionValidity,
        masterValidityInSeconds: masterValidity,
        sessionId: numericId,
        displayUserName: user,
        serverVersion: 'local-stand-in',
        firstLogin: false,
        healthCheckInterval: 45,
        idToken: null,
        mfaToken: null,
        parameters: parameterList({}),
        sessionInfo: {
          databaseName: session.state.database,
          schemaName: session.state.schema,
          warehouseName: session.state.warehouse,
          roleName: session.state.role,
        },
      });
    } catch (err) {
      if (err instanceof LoginRefused) return failure(err.code, err.message, { sqlState: err.sqlState });
      throw err;
    }
  }

  function renew(session: Session): Envelope {
    byToken.delete(session.token);
    session.token = newToken();
    session.tokenExpiresAt = Date.now() + sessionValidity * 1000;
    byToken.set(session.token, session);
    stats.renewals += 1;
    return ok({
      sessionToken: session.token,
      validityInSecondsST: sessionValidity,
      masterToken: session.masterToken,
      validityInSecondsMT: Math.max(0, Math.floor((session.masterExpiresAt - Date.now()) / 1000)),
      sessionId: session.numericId,
    });
  }

  async function runStatement(
    session: Session,
    sqlText: string,
    binds: readonly Bind[],
    queryId: string,
  ): Promise<Envelope> {
    try {
      const record = (sql: string) => engine.execute(sql, [], session.state);
      await options.statementHook?.(sqlText, 'before');
      const result =
        runSessionStatement(session, sqlText) ??
        (await runUserStatement(directory, session.state, sqlText, record)) ??
        (await engine.execute(sqlText, binds, session.state));
      await options.statementHook?.(sqlText, 'after');
      return ok(resultData(result, queryId, session.state, session.parameters));
    } catch (err) {
      if (err instanceof SnowflakeSqlError) return sqlFailure(err.code, err.sqlState, err.message, queryId);
      return sqlFailure(
        '000603',
        'XX000',
        `SQL execution internal error: ${(err as Error).message ?? String(err)}`,
        queryId,
      );
    }
  }

  function remember(record: QueryRecord): void {
    queries.set(record.id, record);
    while (queries.size > KEPT_RESULTS) {
      const oldest = queries.keys().next().value;
      if (oldest === undefined) break;
      queries.delete(oldest);
    }
  }

  async function submit(session: Session, url: URL, body: Record<string, unknown>): Promise<Envelope> {
    const requestId = url.searchParams.get('requestId');
    const retryKey = requestId ? `${session.numericId}:${requestId}` : null;
    const earlier = retryKey ? queries.get(byRequestId.get(retryKey) ?? '') : undefined;
    // The driver re-sends a request with the same requestId after a network error: answer, don't re-run.
    if (earlier) return answer(earlier, body.asyncExec === true);

    const queryId = randomUUID();
    const sqlText = typeof body.sqlText === 'string' ? body.sqlText : '';
    const statementParameters = (body.parameters ?? {}) as Record<string, unknown>;
    let done: Promise<Envelope>;
    if (body.describeOnly === true) {
      done = Promise.resolve(unsupported(queryId, 'describeOnly statements'));
    } else if (body.bindStage !== undefined) {
      done = Promise.resolve(unsupported(queryId, 'binds uploaded to a stage'));
    } else if (
      statementParameters.MULTI_STATEMENT_COUNT !== undefined &&
      Number(statementParameters.MULTI_STATEMENT_COUNT) !== 1
    ) {
      done = Promise.resolve(unsupported(queryId, 'multi-statement requests'));
    } else {
      let binds: Bind[] | Error;
      try {
        binds = parseBindings(body.bindings);
      } catch (err) {
        binds = err as Error;
      }
      if (binds instanceof Error) {
        done = Promise.resolve(sqlFailure('002049', '22000', binds.message, queryId));
      } else {
        const ready = binds;
        const run = () => runStatement(session, sqlText, ready, queryId);
        done = session.queue.then(run, run);
        session.queue = done;
      }
    }
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
    remember(record);
    if (retryKey) {
      byRequestId.set(retryKey, queryId);
      while (byRequestId.size > KEPT_RESULTS) {
        const oldest = byRequestId.keys().next().value;
        if (oldest === undefined) break;
        byRequestId.delete(oldest);
      }
    }
    stats.queries += 1;
    return answer(record, body.asyncExec === true);
  }

  /** The finished result, or "in progress" with where to fetch it once the wait runs out. */
  async function answer(record: QueryRecord, async: boolean): Promise<Envelope> {
    const inProgress = failureInProgress(record.id, async ? '333334' : '333333');
    if (async) return record.envelope ?? inProgress;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<Envelope>((resolve) => {
      timer = setTimeout(() => resolve(inProgress), syncWaitMs);
    });
    try {
      return await Promise.race([record.done, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  function findQuery(session: Session, id: string): QueryRecord | undefined {
    const record = queries.get(id);
    return record && record.user === session.state.user ? record : undefined;
  }

  async function route(req: IncomingMessage, url: URL): Promise<Envelope> {
    const path = url.pathname;
    const post = req.method === 'POST';
    if (post && path === '/session/v1/login-request') return login(url, await readJson(req));
    if (post && path === '/session/token-request') {
      const session = authenticate(req, 'master');
      const body = await readJson(req);
      if (body.requestType !== 'RENEW') {
        return failure('390100', `Token request ${String(body.requestType)} is not supported.`);
      }
      return renew(session);
    }
    if (post && path === '/telemetry/send') {
      await readJson(req).catch(() => ({}));
      return ok(null);
    }
    const session = authenticate(req, 'session');
    if (post && path === '/session/heartbeat') return ok(null);
    if (post && path === '/session' && url.searchParams.get('delete') === 'true') {
      forgetSession(session);
      await session.queue.catch(() => {});
      await engine.closeSession(session.state);
      return ok(null);
    }
    if (post && path === '/queries/v1/query-request') return submit(session, url, await readJson(req));
    const result = /^\/queries\/([^/]+)\/result$/.exec(path);
    if (req.method === 'GET' && result?.[1]) {
      const record = findQuery(session, result[1]);
      if (!record) return notFound(result[1]);
      return answer(record, false);
    }
    const monitoring = /^\/monitoring\/queries\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && monitoring?.[1]) {
      const record = findQuery(session, monitoring[1]);
      return ok({ queries: record ? [describe(record)] : [] });
    }
    const abort = /^\/queries\/([^/]+)\/abort-request$/.exec(path);
    if (post && abort?.[1]) {
      await readJson(req).catch(() => ({}));
      // Statements run to completion in the engine; an abort of a finished one succeeds, as in Snowflake.
      const record = abort[1] === 'v1' ? undefined : findQuery(session, abort[1]);
      if (record && record.status === 'RUNNING') record.status = 'ABORTED';
      return ok(null);
    }
    throw new HttpError(404, failure('390400', `Unknown endpoint ${req.method} ${path}.`));
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    route(req, url).then(
      (envelope) => send(res, 200, envelope),
      (err: unknown) => {
        if (err instanceof HttpError) send(res, err.status, err.envelope);
        // Never a 5xx: the driver retries those with the same request, forever.
        else
          send(res, 200, failure('000603', `Internal error in the local Snowflake stand-in: ${String(err)}`));
      },
    );
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const open = [...byToken.values()];
      for (const session of open) forgetSession(session);
      await Promise.allSettled(open.map((s) => engine.closeSession(s.state)));
    },
  };
}

/** `ALTER SESSION SET|UNSET`: the session's parameters live here, since they shape every response. */
function runSessionStatement(session: Session, sqlText: string): QueryResult | null {
  const match = /^\s*alter\s+session\s+(set|unset)\s+([\s\S]*?)\s*;?\s*$/i.exec(sqlText);
  if (!match?.[1] || match[2] === undefined) return null;
  const assignments = match[2];
  if (match[1].toLowerCase() === 'unset') {
    for (const name of assignments.split(',')) delete session.parameters[name.trim().toUpperCase()];
  } else {
    const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^\s,]+)\s*(?:,|$)/gy;
    let consumed = 0;
    for (const m of assignments.matchAll(pattern)) {
      const [whole, name, raw] = m;
      if (name === undefined || raw === undefined) continue;
      consumed += whole.length;
      session.parameters[name.toUpperCase()] = parseParameterValue(raw);
    }
    if (consumed !== assignments.length) {
      throw new SnowflakeSqlError(
        '001003',
        '42000',
        `SQL compilation error:\nsyntax error in ALTER SESSION near '${assignments.slice(consumed, consumed + 30)}'.`,
      );
    }
  }
  return statusResult('Statement executed successfully.', STATEMENT_TYPE.SCL);
}

function parseParameterValue(raw: string): ParameterValue {
  if (raw.startsWith("'")) return raw.slice(1, -1).replaceAll("''", "'");
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw.toUpperCase();
}

/** `{"1": {type, value}, "2": ...}` into positional binds; named binds are outside what Tally sends. */
function parseBindings(bindings: unknown): Bind[] {
  if (bindings === undefined || bindings === null) return [];
  if (typeof bindings !== 'object') throw new Error('Bindings must be an object.');
  const entries = Object.entries(bindings as Record<string, { type?: unknown; value?: unknown }>);
  const binds: Bind[] = [];
  for (const [key, bind] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 1) {
      throw new Error(
        `Bind variable '${key}' is not supported by the local Snowflake stand-in: use ? or :1.`,
      );
    }
    const value = bind?.value;
    const valid =
      value === null ||
      typeof value === 'string' ||
      (Array.isArray(value) && value.every((v) => v === null || typeof v === 'string'));
    if (!valid) throw new Error(`Bind variable ${key} has a value of an unexpected shape.`);
    binds[index - 1] = { type: String(bind?.type ?? 'TEXT'), value: value as Bind['value'] };
  }
  for (let i = 0; i < binds.length; i++) {
    if (!binds[i]) throw new Error(`Bind variable ${i + 1} is missing.`);
  }
  return binds;
}

function unsupported(queryId: string, what: string): Envelope {
  return sqlFailure(
    '000002',
    '0A000',
    `Unsupported feature: not supported by the local Snowflake stand-in: ${what}.`,
    queryId,
  );
}

function notFound(queryId: string): Envelope {
  return sqlFailure('000709', '02000', `Statement ${queryId} not found`, queryId);
}

function failureInProgress(queryId: string, code: string): Envelope {
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

function describe(record: QueryRecord) {
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

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  // The driver gzips request bodies; the magic bytes say so more reliably than any header.
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) raw = await gunzipAsync(raw);
  if (raw.length === 0) return {};
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    throw new HttpError(400, failure('390400', 'The request body is not valid JSON.'));
  }
}

function send(res: ServerResponse, status: number, envelope: Envelope): void {
  const body = JSON.stringify(envelope);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
