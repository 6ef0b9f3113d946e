// Maps DuckDB's error messages onto the codes, SQL states and message shapes Snowflake returns.
import type { SessionState } from './engine-types';
import { SnowflakeSqlError } from './engine-types';

function positionOf(message: string): number {
  // DuckDB marks the position with a caret line under `LINE 1: <sql>`.
  const lines = message.split('\n');
  const caret = lines.findIndex((l) => /^\s*\^\s*$/.test(l));
  if (caret < 1) return 0;
  const prefix = 'LINE 1: ';
  return Math.max(0, (lines[caret] as string).indexOf('^') - prefix.length);
}

function unquote(name: string): string {
  return name.replace(/^"|"$/g, '');
}

type Rule = readonly [RegExp, (m: RegExpExecArray, pos: number, session: SessionState) => SnowflakeSqlError];

const invalidIdentifier = (m: RegExpExecArray, pos: number) =>
  new SnowflakeSqlError(
    '000904',
    '42000',
    `SQL compilation error: error line 1 at position ${pos}\ninvalid identifier '${m[1]}'`,
  );

/** First matching rule wins; each maps one DuckDB message shape. */
const RULES: readonly Rule[] = [
  [
    /^Parser Error: syntax error at or near "(.*)"/,
    (m, pos) =>
      new SnowflakeSqlError(
        '001003',
        '42000',
        `SQL compilation error:\nsyntax error line 1 at position ${pos} unexpected '${m[1]}'.`,
      ),
  ],
  [
    /^Parser Error: syntax error at end of input/,
    () =>
      new SnowflakeSqlError(
        '001003',
        '42000',
        "SQL compilation error:\nsyntax error line 1 at position 0 unexpected '<EOF>'.",
      ),
  ],
  [/^Parser Error: (.*)/, (m) => new SnowflakeSqlError('001003', '42000', `SQL compilation error:\n${m[1]}`)],
  [
    /Table with name (.+?) does not exist/,
    (m, _pos, session) => {
      const name = unquote(m[1] as string);
      const full = name.includes('.')
        ? name
        : [session.database, session.schema, name].filter(Boolean).join('.');
      return objectError(`Object '${full}'`);
    },
  ],
  [/Schema with name (.+?) does not exist/, (m) => objectError(`Schema '${unquote(m[1] as string)}'`)],
  [/Catalog "(.+?)" does not exist/, (m) => objectError(`Database '${unquote(m[1] as string)}'`)],
  [/Catalog with name (.+?) does not exist/, (m) => objectError(`Database '${unquote(m[1] as string)}'`)],
  [/Referenced column "(.+?)" not found/, invalidIdentifier],
  [/does not have a column named "(.+?)"/, invalidIdentifier],
  [/Referenced table "(.+?)" not found/, invalidIdentifier],
  [
    /^Conversion Error: Could not convert string ["'](.*)["'] to '?(\w+)/,
    (m) => conversionError(m[1] as string, m[2] as string),
  ],
  [
    /Malformed JSON/i,
    (m) =>
      new SnowflakeSqlError('100069', '22P02', `Error parsing JSON: ${m.input.replace(/^.*?Error: /, '')}`),
  ],
  [
    /^(?:Conversion Error|Invalid Input Error: Invalid input for hex digit)/,
    (m) => new SnowflakeSqlError('100038', '22018', m.input.replace(/^.*? Error: /, '')),
  ],
  [/out of range/i, () => new SnowflakeSqlError('100046', '22003', 'Number out of representable range.')],
  [
    /NOT NULL constraint failed/,
    () => new SnowflakeSqlError('100072', '22000', 'NULL result in a non-nullable column'),
  ],
  [
    /with name "?(.+?)"? already exists/,
    (m) =>
      new SnowflakeSqlError('002002', '42710', `SQL compilation error:\nObject '${m[1]}' already exists.`),
  ],
  [
    /Transaction conflict|Conflict on/i,
    (m) =>
      new SnowflakeSqlError(
        '000625',
        '57014',
        `Statement was aborted because another transaction changed the same rows; retry it. (${m.input})`,
      ),
  ],
  [
    /^(?:Binder|Catalog) Error: (.*)/,
    (m) => new SnowflakeSqlError('002040', '42601', `SQL compilation error:\n${m[1]}`),
  ],
];

export function toSnowflakeError(err: unknown, session: SessionState): SnowflakeSqlError {
  if (err instanceof SnowflakeSqlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n')[0] ?? message;
  const pos = positionOf(message);
  for (const [pattern, make] of RULES) {
    const m = pattern.exec(first);
    if (m) return make(m, pos, session);
  }
  return new SnowflakeSqlError('000603', 'XX000', `SQL execution internal error:\n${first}`);
}

function objectError(what: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '002003',
    '42S02',
    `SQL compilation error:\n${what} does not exist or not authorized.`,
  );
}

/** Snowflake's conversion errors by target type. */
export function conversionError(value: string, duckType: string): SnowflakeSqlError {
  const t = duckType.toUpperCase();
  if (t.startsWith('DATE'))
    return new SnowflakeSqlError('100040', '22007', `Date '${value}' is not recognized`);
  if (t.startsWith('TIMESTAMP'))
    return new SnowflakeSqlError('100035', '22007', `Timestamp '${value}' is not recognized`);
  if (t.startsWith('TIME'))
    return new SnowflakeSqlError('100108', '22007', `Time '${value}' is not recognized`);
  if (t.startsWith('BOOL'))
    return new SnowflakeSqlError('100037', '22018', `Boolean value '${value}' is not recognized`);
  if (t.startsWith('JSON')) return new SnowflakeSqlError('100069', '22P02', `Error parsing JSON: ${value}`);
  if (t.startsWith('BLOB'))
    return new SnowflakeSqlError(
      '100115',
      '22000',
      `The following string is not a legal hex-encoded value: '${value}'`,
    );
  return new SnowflakeSqlError('100038', '22018', `Numeric value '${value}' is not recognized`);
}
