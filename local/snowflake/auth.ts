// Who may log in to the Snowflake stand-in and how: users with a password and/or registered RSA public
// keys, the roles granted to each, and the key-pair JWT check Snowflake applies (RS256 signature, issuer
// naming the key's SHA-256 fingerprint, subject, and expiry in milliseconds as snowflake-sdk writes it).
import { createHash, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { type QueryResult, type SessionState, SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { statusResult } from './wire';

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
export class LoginRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly sqlState: string = '08004',
  ) {
    super(message);
    this.name = 'LoginRefused';
  }
}

const BAD_PASSWORD = () => new LoginRefused('390100', 'Incorrect username or password was specified.');
const BAD_JWT = () => new LoginRefused('390144', 'JWT token is invalid.', '08001');
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

export class Directory {
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
      throw new LoginRefused(
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
const IDENT = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

function syntaxError(near: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '001003',
    '42000',
    `SQL compilation error:\nsyntax error near '${near.slice(0, 40)}'.`,
  );
}

/** `NAME = 'text' | word` pairs, as CREATE/ALTER USER take them. */
function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  const pattern = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^\s']+)\s*/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const m = pattern.exec(text);
    if (!m?.[1] || m[2] === undefined) throw syntaxError(text.slice(at));
    const raw = m[2];
    props.set(m[1].toUpperCase(), raw.startsWith("'") ? raw.slice(1, -1).replaceAll("''", "'") : raw);
    at = pattern.lastIndex;
  }
  return props;
}

function applyProperties(directory: Directory, user: string, props: Map<string, string>): void {
  for (const [name, value] of props) {
    if (name === 'PASSWORD') directory.setPassword(user, value);
    else if (name === 'RSA_PUBLIC_KEY') directory.registerPublicKey(user, value, 1);
    else if (name === 'RSA_PUBLIC_KEY_2') directory.registerPublicKey(user, value, 2);
    else if (name === 'DEFAULT_ROLE') directory.setDefaultRole(user, value);
    // TYPE, COMMENT, DEFAULT_WAREHOUSE, DEFAULT_NAMESPACE and the like change nothing a login checks.
  }
}

/**
 * User management, which belongs to the login side: CREATE/ALTER/DROP USER and GRANT/REVOKE ROLE ... TO
 * USER. Returns null for any other statement. Only the user-administration roles may run these.
 */
export async function runUserStatement(
  directory: Directory,
  session: SessionState,
  sql: string,
  /** Runs a statement in the engine, which keeps the catalog's record of users and role grants. */
  record: (sql: string) => Promise<QueryResult>,
): Promise<QueryResult | null> {
  const text = sql.trim().replace(/;\s*$/, '');
  const create = new RegExp(
    `^create\\s+(or\\s+replace\\s+)?user\\s+(if\\s+not\\s+exists\\s+)?${IDENT}([\\s\\S]*)$`,
    'i',
  ).exec(text);
  const alter = new RegExp(
    `^alter\\s+user\\s+(if\\s+exists\\s+)?${IDENT}\\s+(set|unset)\\s+([\\s\\S]*)$`,
    'i',
  ).exec(text);
  const drop = new RegExp(`^drop\\s+user\\s+(if\\s+exists\\s+)?${IDENT}$`, 'i').exec(text);
  const grant = new RegExp(`^(grant|revoke)\\s+role\\s+${IDENT}\\s+(to|from)\\s+user\\s+${IDENT}$`, 'i').exec(
    text,
  );
  if (!create && !alter && !drop && !grant) return null;
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
  if (create) {
    const [, orReplace, ifNotExists, rawName, rest = ''] = create;
    const name = normalizeIdentifier(rawName ?? '');
    if (directory.hasUser(name) && !orReplace) {
      if (ifNotExists)
        return statusResult(`${name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
      throw new SnowflakeSqlError(
        '002002',
        '42710',
        `SQL compilation error:\nObject '${name}' already exists.`,
      );
    }
    const props = parseProperties(rest);
    await record(`CREATE USER IF NOT EXISTS ${quoted(name)}`);
    directory.addUser({ name, roles: ['PUBLIC'], defaultRole: 'PUBLIC' });
    applyProperties(directory, name, props);
    return statusResult(`User ${name} successfully created.`, STATEMENT_TYPE.DDL);
  }
  if (alter) {
    const [, ifExists, rawName, verb = '', rest = ''] = alter;
    const name = normalizeIdentifier(rawName ?? '');
    if (!directory.hasUser(name)) {
      if (ifExists) return statusResult('Statement executed successfully.', STATEMENT_TYPE.DDL);
      throw missing(name);
    }
    if (verb.toLowerCase() === 'set') applyProperties(directory, name, parseProperties(rest));
    else {
      for (const prop of rest.split(',').map((p) => p.trim().toUpperCase())) {
        if (prop === 'RSA_PUBLIC_KEY') directory.unsetPublicKey(name, 1);
        else if (prop === 'RSA_PUBLIC_KEY_2') directory.unsetPublicKey(name, 2);
      }
    }
    return statusResult('Statement executed successfully.', STATEMENT_TYPE.DDL);
  }
  if (drop) {
    const [, ifExists, rawName] = drop;
    const name = normalizeIdentifier(rawName ?? '');
    if (!directory.dropUser(name) && !ifExists) throw missing(name);
    await record(`DROP USER IF EXISTS ${quoted(name)}`);
    return statusResult(`${name} successfully dropped.`, STATEMENT_TYPE.DDL);
  }
  const [, verb = '', rawRole, , rawUser] = grant ?? [];
  const user = normalizeIdentifier(rawUser ?? '');
  if (!directory.hasUser(user)) throw missing(user);
  // The engine checks that the role exists and records the grant.
  await record(text);
  if (verb.toLowerCase() === 'grant') directory.grantRole(user, rawRole ?? '');
  else directory.revokeRole(user, rawRole ?? '');
  return statusResult('Statement executed successfully.', STATEMENT_TYPE.DDL);
}
