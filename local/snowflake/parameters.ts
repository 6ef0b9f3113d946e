// Snowflake's session parameters as the stand-in knows them (https://docs.snowflake.com/en/sql-reference/parameters):
// each one's type and default, whether it takes effect here, and the account, session and default levels.
import { SnowflakeSqlError } from './engine-types';
import { unsupported } from './errors';

export type ParameterValue = string | number | boolean;

type Kind =
  /** Changes what the stand-in does (timeouts, input formats, identifiers...). */
  | 'effective'
  /** Only shapes how the driver formats values: kept and sent back with every result. */
  | 'driver'
  /** Documented, but the stand-in does not model it: only its default may be set. */
  | 'unmodelled';

interface ParameterSpec {
  readonly type: 'boolean' | 'number' | 'string';
  readonly defaultValue: ParameterValue;
  readonly kind: Kind;
  /** Inclusive bounds of a number parameter. */
  readonly range?: readonly [number, number];
  /** Allowed values of an enumerated string parameter (upper-case). */
  readonly values?: readonly string[];
}

const FORMAT = (defaultValue: string, kind: Kind = 'effective'): ParameterSpec => ({
  type: 'string',
  defaultValue,
  kind,
});

/** The session parameters of Snowflake's documentation that the stand-in recognises, by name. */
const PARAMETERS: Readonly<Record<string, ParameterSpec>> = {
  ABORT_DETACHED_QUERY: { type: 'boolean', defaultValue: false, kind: 'effective' },
  AUTOCOMMIT: { type: 'boolean', defaultValue: true, kind: 'unmodelled' },
  BINARY_INPUT_FORMAT: { type: 'string', defaultValue: 'HEX', kind: 'unmodelled' },
  BINARY_OUTPUT_FORMAT: { type: 'string', defaultValue: 'HEX', kind: 'driver', values: ['HEX', 'BASE64'] },
  DATE_INPUT_FORMAT: FORMAT('AUTO'),
  DATE_OUTPUT_FORMAT: FORMAT('YYYY-MM-DD', 'driver'),
  ERROR_ON_NONDETERMINISTIC_MERGE: { type: 'boolean', defaultValue: true, kind: 'effective' },
  ERROR_ON_NONDETERMINISTIC_UPDATE: { type: 'boolean', defaultValue: false, kind: 'unmodelled' },
  JSON_INDENT: { type: 'number', defaultValue: 2, kind: 'unmodelled' },
  LOCK_TIMEOUT: { type: 'number', defaultValue: 43_200, kind: 'effective', range: [0, 2 ** 31 - 1] },
  MULTI_STATEMENT_COUNT: { type: 'number', defaultValue: 1, kind: 'unmodelled' },
  QUERY_TAG: { type: 'string', defaultValue: '', kind: 'driver' },
  QUOTED_IDENTIFIERS_IGNORE_CASE: { type: 'boolean', defaultValue: false, kind: 'effective' },
  ROWS_PER_RESULTSET: { type: 'number', defaultValue: 0, kind: 'unmodelled' },
  STATEMENT_QUEUED_TIMEOUT_IN_SECONDS: { type: 'number', defaultValue: 0, kind: 'unmodelled' },
  STATEMENT_TIMEOUT_IN_SECONDS: {
    type: 'number',
    defaultValue: 172_800,
    kind: 'effective',
    range: [0, 604_800],
  },
  TIME_INPUT_FORMAT: FORMAT('AUTO'),
  TIME_OUTPUT_FORMAT: FORMAT('HH24:MI:SS', 'driver'),
  TIMESTAMP_DAY_IS_ALWAYS_24H: { type: 'boolean', defaultValue: false, kind: 'unmodelled' },
  TIMESTAMP_INPUT_FORMAT: FORMAT('AUTO'),
  TIMESTAMP_LTZ_OUTPUT_FORMAT: FORMAT('', 'driver'),
  TIMESTAMP_NTZ_OUTPUT_FORMAT: FORMAT('YYYY-MM-DD HH24:MI:SS.FF3', 'driver'),
  TIMESTAMP_OUTPUT_FORMAT: FORMAT('YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM', 'driver'),
  TIMESTAMP_TYPE_MAPPING: {
    type: 'string',
    defaultValue: 'TIMESTAMP_NTZ',
    kind: 'unmodelled',
    values: ['TIMESTAMP_LTZ', 'TIMESTAMP_NTZ', 'TIMESTAMP_TZ'],
  },
  TIMESTAMP_TZ_OUTPUT_FORMAT: FORMAT('', 'driver'),
  TIMEZONE: FORMAT('America/Los_Angeles'),
  TRANSACTION_ABORT_ON_ERROR: { type: 'boolean', defaultValue: false, kind: 'unmodelled' },
  TRANSACTION_DEFAULT_ISOLATION_LEVEL: { type: 'string', defaultValue: 'READ COMMITTED', kind: 'unmodelled' },
  TWO_DIGIT_CENTURY_START: { type: 'number', defaultValue: 1970, kind: 'unmodelled' },
  USE_CACHED_RESULT: { type: 'boolean', defaultValue: true, kind: 'unmodelled' },
  WEEK_OF_YEAR_POLICY: { type: 'number', defaultValue: 0, kind: 'unmodelled' },
  WEEK_START: { type: 'number', defaultValue: 0, kind: 'unmodelled' },
};

/**
 * The values the stand-in starts an account with where they differ from Snowflake's defaults: the
 * local account is set to UTC, as most accounts that load data are, so that results read the same
 * anywhere. Any other parameter starts at its documented default.
 */
export const ACCOUNT_DEFAULTS: Readonly<Record<string, ParameterValue>> = { TIMEZONE: 'UTC' };

/** Snowflake's answer to a parameter name it does not have. */
export function invalidParameter(name: string): SnowflakeSqlError {
  return new SnowflakeSqlError('001006', '22023', `SQL compilation error:\ninvalid parameter '${name}'`);
}

function invalidValue(name: string, value: ParameterValue): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '001006',
    '22023',
    `SQL compilation error:\ninvalid value [${String(value)}] for parameter '${name}'`,
  );
}

function spec(name: string): ParameterSpec {
  const found = PARAMETERS[name];
  if (!found) throw invalidParameter(name);
  return found;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks an assignment and returns the value to keep. A parameter the stand-in does not model may only
 * be set to its documented default: anything else would be accepted here and behave differently there.
 */
export function checkAssignment(name: string, value: ParameterValue): ParameterValue {
  const s = spec(name);
  let v: ParameterValue = value;
  if (s.type === 'number') {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidValue(name, value);
    if (s.range && (v < s.range[0] || v > s.range[1])) throw invalidValue(name, value);
  } else if (s.type === 'boolean') {
    if (typeof v !== 'boolean') throw invalidValue(name, value);
  } else {
    v = String(v);
    if (s.values && !s.values.includes(v.toUpperCase())) throw invalidValue(name, value);
    if (s.values) v = v.toUpperCase();
    if (name === 'TIMEZONE' && !isTimeZone(v)) throw invalidValue(name, value);
  }
  if (s.kind === 'unmodelled' && v !== s.defaultValue) {
    throw unsupported(
      `${name} = ${String(value)} (only its default, ${String(s.defaultValue)}, is modelled)`,
    );
  }
  return v;
}

/** Checks that a name is a parameter, for UNSET. */
export function checkName(name: string): void {
  spec(name);
}

/** The parameter levels a statement sees: session over account over the documented default. */
export interface ParameterLevels {
  readonly session?: Readonly<Record<string, ParameterValue>>;
  readonly account?: Readonly<Record<string, ParameterValue>>;
}

export function parameter(name: string, levels: ParameterLevels): ParameterValue {
  return (
    levels.session?.[name] ?? levels.account?.[name] ?? ACCOUNT_DEFAULTS[name] ?? spec(name).defaultValue
  );
}

export const booleanParameter = (name: string, levels: ParameterLevels): boolean =>
  parameter(name, levels) === true;

export const numberParameter = (name: string, levels: ParameterLevels): number =>
  Number(parameter(name, levels));

export const stringParameter = (name: string, levels: ParameterLevels): string =>
  String(parameter(name, levels));

/** The values set away from the defaults at the account or in the session, as the driver is sent them. */
export function overrides(levels: ParameterLevels): Record<string, ParameterValue> {
  return { ...ACCOUNT_DEFAULTS, ...levels.account, ...levels.session };
}
