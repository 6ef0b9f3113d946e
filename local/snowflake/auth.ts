// Snowflake's users and their logins: password and key-pair JWT (RS256, issuer naming the key's SHA-256
// fingerprint, times in milliseconds as snowflake-sdk writes them), granted roles, and the user DDL.
import { createHash, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { claimName } from './ddl/common';
import { type QueryResult, type SessionState, SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { Cursor, significant, splitTopLevel, type Token, tokenize } from './sql-tokens';
import { statementExecuted, statusResult } from './status';

export interface UserSpec {
  readonly name: string;
  readonly password?: string;
  /** PEM public keys (SPKI), or the bare base64 body Snowflake's RSA_PUBLIC_KEY takes. */
  readonly publicKeys?: readonly string[];
  readonly roles?: readonly string[];
  readonly defaultRole?: string;
}

interface User {
  readonly name: string;
  passwordDigest: Buffer | null;
  keys: { key: KeyObject; fingerprint: string }[];
  roles: Set<string>;
  defaultRole: string;
}

/** Why a login was refused, with Snowflake's code and message (nothing that helps an attacker). */
export class LoginRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly sqlState: string = '08004',
  ) {
    super(message);
    this.name = 'LoginRefusedError';
  }
}

const BAD_PASSWORD = () => new LoginRefusedError('390100', 'Incorrect username or password was specified.');
const BAD_JWT = () => new LoginRefusedError('390144', 'JWT token is invalid.', '08001');
/** Largest JWT lifetime Snowflake accepts. */
const MAX_JWT_LIFETIME_MS = 60 * 60 * 1000;
const CLOCK_SKEW_MS = 60 * 1000;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Unquoted Snowflake identifiers are stored upper-case; a double-quoted one keeps its case. */
export function normalizeIdentifier(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replaceAll('""', '"');
  }
  return trimmed.toUpperCase();
}

export function publicKeyFingerprint(key: KeyObject): string {
  return `SHA256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64')}`;
}

function parsePublicKey(text: string): KeyObject {
  const pem = text.includes('-----BEGIN')
    ? text
    : `-----BEGIN PUBLIC KEY-----\n${text.replace(/\s+/g, '')}\n-----END PUBLIC KEY-----\n`;
  return createPublicKey({ key: pem, format: 'pem' });
}

function decodeSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class UserDirectory {
  private readonly users = new Map<string, User>();
  readonly account: string;

  constructor(account: string) {
    this.account = account.toUpperCase();
  }

  /** Adds a user, or replaces one of the same name. */
  addUser(spec: UserSpec): void {
    const name = normalizeIdentifier(spec.name);
    const roles = (spec.roles ?? ['PUBLIC']).map(normalizeIdentifier);
    const defaultRole = normalizeIdentifier(spec.defaultRole ?? roles[0] ?? 'PUBLIC');
    this.users.set(name, {
      name,
      passwordDigest: spec.password === undefined ? null : digest(spec.password),
      keys: [],
      roles: new Set([...roles, defaultRole, 'PUBLIC']),
      defaultRole,
    });
    for (const key of spec.publicKeys ?? []) this.registerPublicKey(name, key);
  }

  hasUser(name: string): boolean {
    return this.users.has(normalizeIdentifier(name));
  }

  dropUser(name: string): boolean {
    return this.users.delete(normalizeIdentifier(name));
  }

  /** Registers a public key for a user; Snowflake keeps two (RSA_PUBLIC_KEY, RSA_PUBLIC_KEY_2) for rotation. */
  registerPublicKey(userName: string, publicKey: string, slot: 1 | 2 = 1): void {
    const user = this.require(userName);
    const key = parsePublicKey(publicKey);
    const entry = { key, fingerprint: publicKeyFingerprint(key) };
    const others = user.keys.filter((_, i) => i !== slot - 1);
    user.keys = slot === 1 ? [entry, ...others.slice(0, 1)] : [...user.keys.slice(0, 1), entry];
  }

  unsetPublicKey(userName: string, slot: 1 | 2): void {
    const user = this.require(userName);
    user.keys = user.keys.filter((_, i) => i !== slot - 1);
  }

  setPassword(userName: string, password: string): void {
    this.require(userName).passwordDigest = digest(password);
  }

  setDefaultRole(userName: string, role: string): void {
    this.require(userName).defaultRole = normalizeIdentifier(role);
  }

  /** The roles granted to a user, which the user's sessions may switch to. */
  rolesOf(userName: string): string[] {
    return [...(this.users.get(normalizeIdentifier(userName))?.roles ?? [])];
  }

  grantRole(userName: string, role: string): void {
    this.require(userName).roles.add(normalizeIdentifier(role));
  }

  revokeRole(userName: string, role: string): void {
    this.require(userName).roles.delete(normalizeIdentifier(role));
  }

  /** Checks a password login and returns the canonical user name. */
  checkPassword(account: string, loginName: string, password: unknown): string {
    const user = this.users.get(normalizeIdentifier(loginName));
    if (account.toUpperCase() !== this.account || !user?.passwordDigest || typeof password !== 'string') {
      throw BAD_PASSWORD();
    }
    if (!timingSafeEqual(digest(password), user.passwordDigest)) throw BAD_PASSWORD();
    return user.name;
  }

  /** Checks a key-pair login's JWT and returns the canonical user name. */
  checkJwt(account: string, loginName: string, token: unknown, now = Date.now()): string {
    const user = this.users.get(normalizeIdentifier(loginName));
    if (account.toUpperCase() !== this.account || !user || typeof token !== 'string') throw BAD_JWT();
    const [headerPart, payloadPart, signaturePart, ...rest] = token.split('.');
    if (!headerPart || !payloadPart || !signaturePart || rest.length > 0) throw BAD_JWT();
    const header = decodeSegment(headerPart);
    const payload = decodeSegment(payloadPart);
    if (header?.alg !== 'RS256' || !payload) throw BAD_JWT();
    const subject = `${this.account}.${user.name}`;
    const { iss, sub, iat, exp } = payload;
    if (typeof iss !== 'string' || sub !== subject || typeof iat !== 'number' || typeof exp !== 'number') {
      throw BAD_JWT();
    }
    if (exp <= now || iat > now + CLOCK_SKEW_MS || exp - iat > MAX_JWT_LIFETIME_MS) throw BAD_JWT();
    const key = user.keys.find((k) => iss === `${subject}.${k.fingerprint}`);
    if (!key) throw BAD_JWT();
    const signed = Buffer.from(`${headerPart}.${payloadPart}`, 'utf8');
    if (!verify('RSA-SHA256', signed, key.key, Buffer.from(signaturePart, 'base64url'))) throw BAD_JWT();
    return user.name;
  }

  /** The role a session starts with: the requested one if granted, else the user's default role. */
  chooseRole(userName: string, requested: string | undefined): string {
    const user = this.require(userName);
    if (requested === undefined || requested === '') return user.defaultRole;
    const role = normalizeIdentifier(requested);
    if (!user.roles.has(role)) {
      throw new LoginRefusedError(
        '390189',
        `Role '${role}' specified in the connect string is not granted to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.`,
      );
    }
    return role;
  }

  private require(userName: string): User {
    const user = this.users.get(normalizeIdentifier(userName));
    if (!user) throw new Error(`User '${normalizeIdentifier(userName)}' does not exist.`);
    return user;
  }
}

const USER_ADMIN_ROLES = new Set(['ACCOUNTADMIN', 'SECURITYADMIN', 'USERADMIN']);

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `NAME = 'text' | value` pairs separated by blanks, as CREATE/ALTER USER take them. */
function parseProperties(tokens: readonly Token[]): Map<string, string> {
  const props = new Map<string, string>();
  const cur = new Cursor(tokens);
  while (!cur.done()) {
    const name = cur.peek();
    if (name?.kind !== 'word') throw cur.unexpected();
    cur.next();
    cur.expectOp('=');
    // An unquoted value keeps its source text: DEFAULT_ROLE = "Mixed" must stay quoted to keep its case.
    props.set(name.value, cur.peek()?.kind === 'string' ? cur.next().value : cur.adjacentText());
  }
  return props;
}

function applyProperties(directory: UserDirectory, user: string, props: Map<string, string>): void {
  for (const [name, value] of props) {
    if (name === 'PASSWORD') directory.setPassword(user, value);
    else if (name === 'RSA_PUBLIC_KEY') directory.registerPublicKey(user, value, 1);
    else if (name === 'RSA_PUBLIC_KEY_2') directory.registerPublicKey(user, value, 2);
    else if (name === 'DEFAULT_ROLE') directory.setDefaultRole(user, value);
    // TYPE, COMMENT, DEFAULT_WAREHOUSE, DEFAULT_NAMESPACE and the like change nothing a login checks.
  }
}

type UserStatement =
  | {
      readonly kind: 'create';
      readonly orReplace: boolean;
      readonly ifNotExists: boolean;
      readonly name: string;
      readonly properties: readonly Token[];
    }
  | {
      readonly kind: 'alter';
      readonly ifExists: boolean;
      readonly name: string;
      readonly unset: boolean;
      readonly rest: readonly Token[];
    }
  | { readonly kind: 'drop'; readonly ifExists: boolean; readonly name: string }
  | {
      readonly kind: 'grant' | 'revoke';
      /** As written: the directory resolves it, the engine checks that it exists. */
      readonly role: string;
      readonly user: string;
    };

/**
 * CREATE [OR REPLACE] USER [IF NOT EXISTS] name ..., ALTER USER [IF EXISTS] name SET|UNSET ..., DROP USER
 * [IF EXISTS] name, and GRANT|REVOKE ROLE role TO|FROM USER name; null for any other shape, which the
 * engine then answers.
 */
function recognize(sql: string): UserStatement | null {
  const cur = new Cursor(significant(tokenize(sql)));
  if (cur.accept('CREATE')) {
    const orReplace = cur.accept('OR', 'REPLACE');
    if (!cur.accept('USER')) return null;
    const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
    const name = cur.acceptIdent();
    return name === undefined
      ? null
      : { kind: 'create', orReplace, ifNotExists, name, properties: cur.rest() };
  }
  if (cur.accept('ALTER', 'USER')) {
    const ifExists = cur.accept('IF', 'EXISTS');
    const name = cur.acceptIdent();
    const unset = cur.accept('UNSET');
    if (name === undefined || (!unset && !cur.accept('SET')) || cur.done()) return null;
    return { kind: 'alter', ifExists, name, unset, rest: cur.rest() };
  }
  if (cur.accept('DROP', 'USER')) {
    const ifExists = cur.accept('IF', 'EXISTS');
    const name = cur.acceptIdent();
    return name === undefined || !cur.done() ? null : { kind: 'drop', ifExists, name };
  }
  const kind = cur.accept('GRANT') ? 'grant' : cur.accept('REVOKE') ? 'revoke' : null;
  if (!kind || !cur.accept('ROLE')) return null;
  const role = cur.peek();
  if (cur.acceptIdent() === undefined || !(cur.accept('TO') || cur.accept('FROM')) || !cur.accept('USER')) {
    return null;
  }
  const user = cur.acceptIdent();
  return role && user !== undefined && cur.done() ? { kind, role: role.text, user } : null;
}

/**
 * User management, which belongs to the login side: CREATE/ALTER/DROP USER and GRANT/REVOKE ROLE ... TO
 * USER. Returns null for any other statement. Only the user-administration roles may run these.
 */
export async function runUserStatement(
  directory: UserDirectory,
  session: SessionState,
  sql: string,
  /** Runs a statement in the engine, which keeps the catalog's record of users and role grants. */
  record: (sql: string) => Promise<QueryResult>,
): Promise<QueryResult | null> {
  const statement = recognize(sql);
  if (!statement) return null;
  if (!USER_ADMIN_ROLES.has(session.role)) {
    throw new SnowflakeSqlError(
      '003001',
      '42501',
      `SQL access control error:\nInsufficient privileges to operate on account '${directory.account}'.`,
    );
  }
  const missing = (name: string) =>
    new SnowflakeSqlError(
      '002003',
      '02000',
      `SQL compilation error:\nUser '${name}' does not exist or not authorized.`,
    );
  switch (statement.kind) {
    case 'create': {
      const { name, orReplace, ifNotExists } = statement;
      // Unlike the engine's CREATEs, OR REPLACE wins over IF NOT EXISTS here.
      const taken = directory.hasUser(name) && !orReplace;
      const existing = await claimName(name, taken, { orReplace, ifNotExists, temporary: false });
      if (existing) return existing;
      const props = parseProperties(statement.properties);
      await record(`CREATE USER IF NOT EXISTS ${quoted(name)}`);
      directory.addUser({ name, roles: ['PUBLIC'], defaultRole: 'PUBLIC' });
      applyProperties(directory, name, props);
      return statusResult(`User ${name} successfully created.`, STATEMENT_TYPE.DDL);
    }
    case 'alter': {
      const { name } = statement;
      if (!directory.hasUser(name)) {
        if (statement.ifExists) return statementExecuted(STATEMENT_TYPE.DDL);
        throw missing(name);
      }
      if (!statement.unset) applyProperties(directory, name, parseProperties(statement.rest));
      else {
        for (const prop of splitTopLevel(statement.rest)) {
          const property = prop
            .map((t) => t.text)
            .join('')
            .toUpperCase();
          if (property === 'RSA_PUBLIC_KEY') directory.unsetPublicKey(name, 1);
          else if (property === 'RSA_PUBLIC_KEY_2') directory.unsetPublicKey(name, 2);
        }
      }
      return statementExecuted(STATEMENT_TYPE.DDL);
    }
    case 'drop': {
      const { name } = statement;
      if (!directory.dropUser(name) && !statement.ifExists) throw missing(name);
      await record(`DROP USER IF EXISTS ${quoted(name)}`);
      return statusResult(`${name} successfully dropped.`, STATEMENT_TYPE.DDL);
    }
    default: {
      if (!directory.hasUser(statement.user)) throw missing(statement.user);
      // The engine checks that the role exists and records the grant.
      await record(sql.trim().replace(/;\s*$/, ''));
      if (statement.kind === 'grant') directory.grantRole(statement.user, statement.role);
      else directory.revokeRole(statement.user, statement.role);
      return statementExecuted(STATEMENT_TYPE.DDL);
    }
  }
}
