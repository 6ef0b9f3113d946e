// Snowflake's errors as the stand-in raises them (syntax, unsupported features, missing and existing
// objects, conversions), and the mapping of DuckDB's error messages onto Snowflake's codes and texts.
import type { SessionState } from './engine-types';
import { SnowflakeSqlError } from './engine-types';

export function syntaxError(message: string): SnowflakeSqlError {
  return new SnowflakeSqlError('001003', '42000', `SQL compilation error:\n${message}`);
}

/** Snowflake's wording for a token it did not expect; `text` is the token as written. */
export function unexpectedToken(pos: number, text: string): SnowflakeSqlError {
  return syntaxError(`syntax error line 1 at position ${pos} unexpected '${text}'.`);
}

/** Refuses what the stand-in does not implement, by name, rather than answering differently from Snowflake. */
export function unsupported(what: string): SnowflakeSqlError {
  return new SnowflakeSqlError('000002', '0A000', `not supported by the local Snowflake stand-in: ${what}`);
}

export function alreadyExists(name: string): SnowflakeSqlError {
  return new SnowflakeSqlError('002002', '42710', `SQL compilation error:\nObject '${name}' already exists.`);
}

export function objectMissing(parts: readonly string[], kind = 'Object'): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '002003',
    '42S02',
    `SQL compilation error:\n${kind} '${parts.join('.')}' does not exist or not authorized.`,
  );
}

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
  // A refusal the stand-in raises while a statement runs (`functions.ts`): DuckDB's `error()` prefixes it.
  [
    /^Invalid Input Error: not supported by the local Snowflake stand-in: (.*)/,
    (m) => unsupported(m[1] as string),
  ],
  [/^Parser Error: syntax error at or near "(.*)"/, (m, pos) => unexpectedToken(pos, m[1] as string)],
  [/^Parser Error: syntax error at end of input/, () => unexpectedToken(0, '<EOF>')],
  [/^Parser Error: (.*)/, (m) => syntaxError(m[1] as string)],
  [
    /Table with name (.+?) does not exist/,
    (m, _pos, session) => {
      const name = unquote(m[1] as string);
      const full = name.includes('.')
        ? name
        : [session.database, session.schema, name].filter(Boolean).join('.');
      return objectMissing([full]);
    },
  ],
  [/Schema with name (.+?) does not exist/, (m) => objectMissing([unquote(m[1] as string)], 'Schema')],
  [/Catalog "(.+?)" does not exist/, (m) => objectMissing([unquote(m[1] as string)], 'Database')],
  [/Catalog with name (.+?) does not exist/, (m) => objectMissing([unquote(m[1] as string)], 'Database')],
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
  [/with name "?(.+?)"? already exists/, (m) => alreadyExists(m[1] as string)],
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
