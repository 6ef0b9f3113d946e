// Snowflake's sessions: the login-request opening one with a session token and a master token, each
// request authenticated by its token, renewal with the master token, and session delete.
import { randomBytes, randomInt } from 'node:crypto';
import { LoginRefusedError, normalizeIdentifier, type UserDirectory } from './auth';
import { BoundedMap } from './bounded-map';
import type { SessionState } from './engine-types';
import type { ParameterValue } from './parameters';
import { type Envelope, failure, HttpError, ok, parameterList } from './wire';

export interface Session {
  readonly state: SessionState;
  readonly numericId: number;
  token: string;
  tokenExpiresAt: number;
  masterToken: string;
  masterExpiresAt: number;
  /** Set with ALTER SESSION and sent with every result. */
  readonly parameters: Record<string, ParameterValue>;
  /** Statements of one session run one after another, as in Snowflake. */
  queue: Promise<unknown>;
  /** The query id of the statement running now. */
  current?: string;
  closed: boolean;
}

export interface SessionStoreOptions {
  readonly directory: UserDirectory;
  /** Namespace and warehouse a session starts in when the driver names none. */
  readonly defaults: { readonly database: string; readonly schema: string; readonly warehouse: string };
  readonly sessionValiditySeconds: number;
  readonly masterValiditySeconds: number;
  /** The account's parameters, which a session starts with. */
  readonly parameters?: () => Readonly<Record<string, ParameterValue>>;
}

/** Closed sessions whose tokens are still told apart from unknown ones (390111 rather than 390104). */
const CLOSED_SESSIONS_KEPT = 1000;

const newToken = () => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly byToken = new Map<string, Session>();
  private readonly byMaster = new Map<string, Session>();
  private readonly closedTokens = new BoundedMap<string, true>(CLOSED_SESSIONS_KEPT);

  constructor(
    private readonly options: SessionStoreOptions,
    private readonly stats: { logins: number; renewals: number },
  ) {}

  /** Answers a login-request: a new session, or Snowflake's refusal (with HTTP 200, as Snowflake does). */
  login(url: URL, body: Record<string, unknown>): Envelope {
    const { directory, defaults, sessionValiditySeconds, masterValiditySeconds } = this.options;
    const data = (body.data ?? {}) as Record<string, unknown>;
    const account = String(data.ACCOUNT_NAME ?? '');
    const loginName = String(data.LOGIN_NAME ?? '');
    const authenticator = String(data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    try {
      let user: string;
      if (authenticator === 'SNOWFLAKE') user = directory.checkPassword(account, loginName, data.PASSWORD);
      else if (authenticator === 'SNOWFLAKE_JWT') user = directory.checkJwt(account, loginName, data.TOKEN);
      else {
        throw new LoginRefusedError(
          '390100',
          `Authenticator ${authenticator} is not supported by the local Snowflake stand-in: use a password or SNOWFLAKE_JWT.`,
        );
      }
      const param = (name: string) => url.searchParams.get(name) ?? undefined;
      const role = directory.chooseRole(user, param('roleName'));
      const numericId = randomInt(1, 2 ** 47);
      const now = Date.now();
      const parameters: Record<string, ParameterValue> = {};
      const session: Session = {
        state: {
          id: String(numericId),
          user,
          role,
          database: normalizeIdentifier(param('databaseName') ?? defaults.database),
          schema: normalizeIdentifier(param('schemaName') ?? defaults.schema),
          warehouse: normalizeIdentifier(param('warehouse') ?? defaults.warehouse),
          transaction: undefined,
          parameters,
          grantedRoles: () => directory.rolesOf(user),
        },
        numericId,
        token: newToken(),
        tokenExpiresAt: now + sessionValiditySeconds * 1000,
        masterToken: newToken(),
        masterExpiresAt: now + masterValiditySeconds * 1000,
        parameters,
        queue: Promise.resolve(),
        closed: false,
      };
      this.byToken.set(session.token, session);
      this.byMaster.set(session.masterToken, session);
      this.stats.logins += 1;
      return ok({
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: sessionValiditySeconds,
        masterValidityInSeconds: masterValiditySeconds,
        sessionId: numericId,
        displayUserName: user,
        serverVersion: 'local-stand-in',
        firstLogin: false,
        healthCheckInterval: 45,
        idToken: null,
        mfaToken: null,
        parameters: parameterList(this.options.parameters?.() ?? {}),
        sessionInfo: {
          databaseName: session.state.database,
          schemaName: session.state.schema,
          warehouseName: session.state.warehouse,
          roleName: session.state.role,
        },
      });
    } catch (err) {
      if (err instanceof LoginRefusedError) return failure(err.code, err.message, { sqlState: err.sqlState });
      throw err;
    }
  }

  /** The session a request's `Authorization: Snowflake Token="..."` header names, by either token. */
  authenticate(header: string | undefined, kind: 'session' | 'master'): Session {
    const match = header === undefined ? null : /^Snowflake Token="([^"]+)"$/.exec(header);
    if (!match?.[1]) {
      throw new HttpError(401, failure('390101', 'Authorization header not found in the request data.'));
    }
    const token = match[1];
    const session = kind === 'session' ? this.byToken.get(token) : this.byMaster.get(token);
    if (!session) {
      if (this.closedTokens.has(token)) {
        throw new HttpError(
          200,
          failure('390111', 'Session no longer exists.  New login required to access the service.'),
        );
      }
      throw new HttpError(
        401,
        failure('390104', 'Invalid session token. New login required to access the service.'),
      );
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

  /** A new session token for the session; the master token stays until it expires. */
  renew(session: Session): Envelope {
    const { sessionValiditySeconds } = this.options;
    this.byToken.delete(session.token);
    session.token = newToken();
    session.tokenExpiresAt = Date.now() + sessionValiditySeconds * 1000;
    this.byToken.set(session.token, session);
    this.stats.renewals += 1;
    return ok({
      sessionToken: session.token,
      validityInSecondsST: sessionValiditySeconds,
      masterToken: session.masterToken,
      validityInSecondsMT: Math.max(0, Math.floor((session.masterExpiresAt - Date.now()) / 1000)),
      sessionId: session.numericId,
    });
  }

  forget(session: Session): void {
    session.closed = true;
    this.byToken.delete(session.token);
    this.byMaster.delete(session.masterToken);
    this.closedTokens.set(session.token, true);
  }

  /** Forgets every open session and returns them, for a server that closes. */
  forgetAll(): Session[] {
    const open = [...this.byToken.values()];
    for (const session of open) this.forget(session);
    return open;
  }
}
