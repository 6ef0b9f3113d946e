// Snowflake's REST endpoints that snowflake-sdk calls, as a route table over the session store and the
// query registry. It only speaks the protocol and logs nothing, so no secret can leak from it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { runUserStatement, type UserDirectory } from './auth';
import type { Bind, Engine, QueryResult } from './engine-types';
import { booleanParameter, overrides } from './parameters';
import { canceledError, describeQuery, QueryRegistry, queryNotFound } from './query-registry';
import { runSessionStatement } from './session-statements';
import { type Session, SessionStore } from './session-store';
import { type Envelope, failure, HttpError, ok } from './wire';

const gunzipAsync = promisify(gunzip);

export interface ServerOptions {
  readonly engine: Engine;
  readonly directory: UserDirectory;
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
  /** How long after its client went away a query is aborted under ABORT_DETACHED_QUERY. Default 5 minutes. */
  readonly detachedQueryAbortMs?: number;
}

/**
 * Called with a statement's text before it runs and after it ran. Throwing a `SnowflakeSqlError` answers
 * the statement with that error (after it ran: although its effects stay, as when a response is lost);
 * awaiting delays the answer. `signal` is aborted when the statement is (an abort request, or its client
 * gone under ABORT_DETACHED_QUERY): a hook holding a statement before it runs should stop waiting, and the
 * statement will not run.
 */
export type StatementHook = (
  sqlText: string,
  phase: 'before' | 'after',
  signal: AbortSignal,
) => Promise<void>;

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

interface Request {
  readonly req: IncomingMessage;
  readonly url: URL;
  /** The path's captured groups. */
  readonly params: readonly string[];
  /** Settles when the request's connection closes, answered or not. */
  readonly closed: Promise<void>;
}

/** A route answered before there is a session (login, telemetry), or for the session a token names. */
type Route = {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  /** Query parameters the request must carry, as `POST /session?delete=true`. */
  readonly query?: Readonly<Record<string, string>>;
} & (
  | { readonly token: 'none'; handle(request: Request): Promise<Envelope> }
  | { readonly token: 'session' | 'master'; handle(request: Request, session: Session): Promise<Envelope> }
);

export async function startServer(options: ServerOptions): Promise<StandInServer> {
  const { engine, directory, statementHook } = options;
  const stats: ServerStats = { logins: 0, renewals: 0, queries: 0 };
  const account = () => engine.accountParameters?.() ?? {};
  const sessions = new SessionStore(
    {
      directory,
      defaults: options.defaults,
      sessionValiditySeconds: options.sessionValiditySeconds ?? 3600,
      masterValiditySeconds: options.masterValiditySeconds ?? 14_400,
      parameters: () => overrides({ account: account() }),
    },
    stats,
  );
  /** Sessions deleted whose running statement and rollback are still to finish. */
  const closing = new Set<Promise<void>>();

  // ALTER SESSION and user administration belong to the server's side; everything else to the engine.
  const runStatement = async (
    session: Session,
    sqlText: string,
    binds: readonly Bind[],
    signal: AbortSignal,
  ): Promise<QueryResult> => {
    const record = (sql: string) => engine.execute(sql, [], session.state);
    await statementHook?.(sqlText, 'before', signal);
    if (signal.aborted) throw canceledError();
    const result =
      runSessionStatement(session.parameters, sqlText) ??
      (await runUserStatement(directory, session.state, sqlText, record)) ??
      (await engine.execute(sqlText, binds, session.state));
    await statementHook?.(sqlText, 'after', signal);
    return result;
  };
  const queries = new QueryRegistry(runStatement, options.syncWaitMs ?? 40_000, stats, {
    parameters: (session) => overrides({ session: session.parameters, account: account() }),
    cancel: (session, reason) => engine.cancel?.(session.state, reason),
    abortsDetached: (session) =>
      booleanParameter('ABORT_DETACHED_QUERY', { session: session.parameters, account: account() }),
    detachedQueryAbortMs: options.detachedQueryAbortMs ?? 300_000,
  });

  const routes: readonly Route[] = [
    {
      method: 'POST',
      path: /^\/session\/v1\/login-request$/,
      token: 'none',
      handle: async ({ req, url }) => sessions.login(url, await readJson(req)),
    },
    {
      method: 'POST',
      path: /^\/session\/token-request$/,
      token: 'master',
      handle: async ({ req }, session) => {
        const body = await readJson(req);
        if (body.requestType !== 'RENEW') {
          return failure('390100', `Token request ${String(body.requestType)} is not supported.`);
        }
        return sessions.renew(session);
      },
    },
    {
      method: 'POST',
      path: /^\/telemetry\/send$/,
      token: 'none',
      handle: async ({ req }) => {
        await readJson(req).catch(() => ({}));
        return ok(null);
      },
    },
    { method: 'POST', path: /^\/session\/heartbeat$/, token: 'session', handle: async () => ok(null) },
    {
      method: 'POST',
      path: /^\/session$/,
      query: { delete: 'true' },
      token: 'session',
      handle: async (_request, session) => {
        // The session ends now; a statement it still runs has lost its client (ABORT_DETACHED_QUERY decides
        // its fate) and the session's open transaction is rolled back once it is done.
        sessions.forget(session);
        for (const record of queries.running(session)) queries.lostClient(record);
        const done = session.queue
          .catch(() => {})
          .then(() => engine.closeSession(session.state))
          .catch(() => {});
        closing.add(done);
        void done.finally(() => closing.delete(done));
        return ok(null);
      },
    },
    {
      method: 'POST',
      path: /^\/queries\/v1\/query-request$/,
      token: 'session',
      handle: async ({ req, url, closed }, session) =>
        queries.submit(session, url, await readJson(req), closed),
    },
    {
      method: 'GET',
      path: /^\/queries\/([^/]+)\/result$/,
      token: 'session',
      handle: async ({ params: [id = ''], closed }, session) => {
        const record = queries.find(session, id);
        return record ? queries.answer(record, false, closed) : queryNotFound(id);
      },
    },
    {
      method: 'GET',
      path: /^\/monitoring\/queries\/([^/]+)$/,
      token: 'session',
      handle: async ({ params: [id = ''] }, session) => {
        const record = queries.find(session, id);
        return ok({ queries: record ? [describeQuery(record)] : [] });
      },
    },
    {
      method: 'POST',
      path: /^\/queries\/([^/]+)\/abort-request$/,
      token: 'session',
      handle: async ({ req, params: [id = ''] }, session) => {
        const body: Record<string, unknown> = await readJson(req).catch(() => ({}));
        // `/queries/v1/abort-request` is the driver's cancel of a statement whose query id it has not had yet.
        if (id !== 'v1') queries.abort(session, id);
        else if (typeof body.requestId === 'string') queries.abortRequest(session, body.requestId);
        return ok(null);
      },
    },
  ];

  async function route(req: IncomingMessage, url: URL, closed: Promise<void>): Promise<Envelope> {
    let found: { route: Route; params: string[] } | undefined;
    for (const r of routes) {
      const match = req.method === r.method ? r.path.exec(url.pathname) : null;
      const query = Object.entries(r.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v);
      if (match && query) {
        found = { route: r, params: match.slice(1) };
        break;
      }
    }
    const request = { req, url, params: found?.params ?? [], closed };
    if (found?.route.token === 'none') return found.route.handle(request);
    // Anything else needs a live session, even to learn that the endpoint does not exist.
    const session = sessions.authenticate(
      req.headers.authorization,
      found?.route.token === 'master' ? 'master' : 'session',
    );
    if (!found)
      throw new HttpError(404, failure('390400', `Unknown endpoint ${req.method} ${url.pathname}.`));
    // Any request of a session, a heartbeat too, says that its client is still there.
    engine.touch?.(session.state);
    return found.route.handle(request, session);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    route(req, url, closed).then(
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
      const open = sessions.forgetAll();
      await Promise.allSettled([...closing, ...open.map((s) => engine.closeSession(s.state))]);
    },
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
