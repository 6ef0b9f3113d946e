// snowflake-sdk's errors as the domain's named errors, by one table of rules: the first rule that
// matches names the error, and its message says what Tally was doing and what to check.
import {
  TallyError,
  WarehouseAuthError,
  WarehouseConversionError,
  WarehouseError,
  WarehouseObjectMissingError,
  WarehousePermissionError,
  WarehouseSyntaxError,
  WarehouseThrottledError,
  WarehouseUnavailableError,
} from '../../domain/errors';
import { NETWORK_CODES } from '../network';

interface DriverError {
  readonly name?: string;
  readonly code?: string | number;
  readonly sqlState?: string;
  readonly message?: string;
  readonly cause?: { readonly code?: string };
  readonly response?: { readonly statusCode?: number };
}

/** What the rules look at: the driver's or the service's code, the HTTP status, and the message. */
interface Facts {
  readonly name: string | undefined;
  readonly code: string;
  readonly causeCode: string;
  readonly status: number | undefined;
  readonly text: string;
}

interface Rule {
  readonly matches: (f: Facts) => boolean;
  readonly error: (what: string, f: Facts, options: ErrorOptions) => TallyError;
}

const SESSION_GONE = new Set(['390111', '390112', '390114', '390104']);
const AUTH_CODES = new Set(['390100', '390144', '390101', '390189', '390102', '390422']);
const SYNTAX_CODES = new Set(['001003', '000904', '000900', '001007', '002020', '002049']);
const CONVERSION = /^1000[0-9]{2}$/;

const RULES: readonly Rule[] = [
  {
    matches: (f) => f.name === 'NetworkError' || NETWORK_CODES.has(f.causeCode) || NETWORK_CODES.has(f.code),
    error: (what, f, o) =>
      new WarehouseUnavailableError(
        `${what}: Snowflake could not be reached (${f.text}); check snowflake.accessUrl or the account name and the network, then retry`,
        o,
      ),
  },
  {
    matches: (f) => f.status === 429 || /throttl|too many requests|queue.*full/i.test(f.text),
    error: (what, f, o) =>
      new WarehouseThrottledError(`${what}: Snowflake is throttling requests (${f.text}); retry later`, o),
  },
  {
    matches: (f) => f.status !== undefined && f.status >= 500,
    error: (what, f, o) =>
      new WarehouseUnavailableError(`${what}: Snowflake answered HTTP ${f.status}; retry later`, o),
  },
  {
    matches: (f) => f.code === '407002',
    error: (what, _f, o) =>
      new WarehouseUnavailableError(
        `${what}: the Snowflake connection was closed under the statement (407002); a retry opens a new one`,
        o,
      ),
  },
  {
    matches: (f) => SESSION_GONE.has(f.code),
    error: (what, f, o) =>
      new WarehouseUnavailableError(
        `${what}: the Snowflake session expired (${f.code}); a retry signs in again`,
        o,
      ),
  },
  {
    matches: (f) => AUTH_CODES.has(f.code) || f.status === 401 || f.status === 403,
    error: (what, f, o) =>
      new WarehouseAuthError(
        `${what}: Snowflake refused the sign-in (${f.code || f.status}: ${f.text}); check snowflake.account, snowflake.username and the private key (its public key must be registered with ALTER USER ... SET RSA_PUBLIC_KEY) or password, and that snowflake.role is granted to the user`,
        o,
      ),
  },
  {
    matches: (f) => f.code === '002003' || f.code === '002043',
    error: (what, f, o) =>
      new WarehouseObjectMissingError(
        `${what}: ${f.text} (Snowflake ${f.code}); run the bootstrap (tally run) or the administrator's script (tally snowflake-ddl), and check snowflake.database and snowflake.schema`,
        o,
      ),
  },
  {
    matches: (f) => SYNTAX_CODES.has(f.code),
    error: (what, f, o) =>
      new WarehouseSyntaxError(
        `${what}: ${f.text} (Snowflake ${f.code}); the statement names a column or uses syntax the target does not accept, check the target table's columns against the source`,
        o,
      ),
  },
  {
    matches: (f) => f.code === '003001' || f.code === '003011' || /insufficient privileges/i.test(f.text),
    error: (what, f, o) =>
      new WarehousePermissionError(
        `${what}: ${f.text} (Snowflake ${f.code}); grant the missing privilege to snowflake.role (see tally snowflake-ddl)`,
        o,
      ),
  },
  {
    matches: (f) => CONVERSION.test(f.code) && f.code !== '100090',
    error: (what, f, o) =>
      new WarehouseConversionError(
        `${what}: ${f.text} (Snowflake ${f.code}); a staged value does not fit its target column type, compare the column with the README's Snowflake type mapping`,
        o,
      ),
  },
  {
    matches: (f) => f.code === '100090',
    error: (what, f, o) =>
      new WarehouseError(
        `${what}: ${f.text} (Snowflake 100090); the staged rows hold the same primary key twice`,
        o,
      ),
  },
  {
    matches: (f) => f.code === '000630',
    error: (what, _f, o) =>
      new WarehouseError(
        `${what}: the statement ran past snowflake.statementTimeoutSeconds and was cancelled; raise it (it cannot exceed the longest step's Lambda timeout less its margin) or use a larger warehouse`,
        o,
      ),
  },
  {
    matches: (f) => f.code === '000603',
    error: (what, f, o) =>
      new WarehouseUnavailableError(`${what}: Snowflake reported an internal error (${f.text}); retry`, o),
  },
  {
    matches: (f) => f.code === '000002',
    error: (what, f, o) =>
      new WarehouseError(`${what}: ${f.text} (Snowflake 000002: unsupported feature)`, o),
  },
];

/** The first line of the service's message, which names the object or value but no credential. */
function detail(err: DriverError): string {
  return (err.message ?? String(err))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join(' ')
    .slice(0, 500);
}

/** Maps a snowflake-sdk error to the domain's named error; `what` says what Tally was doing. */
export function toWarehouseError(err: unknown, what: string): TallyError {
  if (err instanceof TallyError) return err;
  const e = (err ?? {}) as DriverError;
  const facts: Facts = {
    name: e.name,
    code: e.code === undefined ? '' : String(e.code),
    causeCode: e.cause?.code ?? '',
    status: e.response?.statusCode,
    text: detail(e),
  };
  const options = { cause: err };
  const rule = RULES.find((r) => r.matches(facts));
  if (rule) return rule.error(what, facts, options);
  return new WarehouseError(
    `${what}: ${facts.text}${facts.code ? ` (Snowflake ${facts.code})` : ''}`,
    options,
  );
}
