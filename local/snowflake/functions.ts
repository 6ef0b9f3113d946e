// Snowflake functions whose arguments or meaning differ from DuckDB's, rewritten call by call as Snowflake
// documents them; the forms the documentation gives that the stand-in does not implement are refused by
// name. These are the functions value reconciliation's checksums use (`lambdas/adapters/snowflake/checksum.ts`).
//
// - TO_VARCHAR / TO_CHAR (https://docs.snowflake.com/en/sql-reference/functions/to_char): without a format,
//   the value as text; a format model is refused.
// - TO_NUMBER / TO_DECIMAL / TO_NUMERIC (https://docs.snowflake.com/en/sql-reference/functions/to_decimal)
//   with a format model of hexadecimal digits only (`X`, https://docs.snowflake.com/en/sql-reference/sql-format-models):
//   the text read as an unsigned hexadecimal number. Up to 15 digits (60 bits); anything else is refused.
// - DATEDIFF (https://docs.snowflake.com/en/sql-reference/functions/datediff): the number of part boundaries
//   crossed from the second argument to the third, for the parts DAY and MICROSECOND.
// - DATE_PART (https://docs.snowflake.com/en/sql-reference/functions/date_part) with EPOCH_MICROSECOND: the
//   microseconds since 1970-01-01 00:00:00 UTC (a TIMESTAMP_NTZ read as UTC).
// - TO_JSON (https://docs.snowflake.com/en/sql-reference/functions/to_json): a VARIANT or ARRAY as compact
//   JSON text. A value holding an OBJECT anywhere is refused: the page says the order of its key-value pairs
//   in the string "is not predictable", so no text the stand-in wrote would be the one Snowflake writes.
import { SnowflakeSqlError } from './engine-types';
import type { Token } from './sql-tokens';

/** How a refusal raised while a statement runs (DuckDB's `error()`) starts; `errors.ts` maps it to 000002. */
export const UNSUPPORTED_AT_RUN = 'not supported by the local Snowflake stand-in: ';

const notSupported = (what: string) =>
  new SnowflakeSqlError('000002', '0A000', `not supported by the local Snowflake stand-in: ${what}`);

/** Date and time parts DATEDIFF takes, by the names the documentation lists for each, as DuckDB's. */
const DATEDIFF_PARTS: Readonly<Record<string, string>> = {
  DAY: 'day',
  DAYS: 'day',
  D: 'day',
  DD: 'day',
  DAYOFMONTH: 'day',
  MICROSECOND: 'microsecond',
  MICROSECONDS: 'microsecond',
  US: 'microsecond',
  USEC: 'microsecond',
  USECS: 'microsecond',
  USECOND: 'microsecond',
  USECONDS: 'microsecond',
};

const EPOCH_MICROSECOND = new Set(['EPOCH_MICROSECOND', 'EPOCH_MICROSECONDS', 'EPOCH_US']);

/** The functions this module rewrites. */
export const REWRITTEN_FUNCTIONS = new Set([
  'TO_VARCHAR',
  'TO_CHAR',
  'TO_NUMBER',
  'TO_DECIMAL',
  'TO_NUMERIC',
  'DATEDIFF',
  'DATE_PART',
  'TO_JSON',
]);

function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

/** A part named as a bare word or a string literal, upper-cased. */
function partName(arg: readonly Token[]): string | null {
  const sig = significant(arg);
  const only = sig[0];
  if (sig.length !== 1 || only === undefined) return null;
  if (only.kind === 'word' || only.kind === 'string') return only.value.toUpperCase();
  return null;
}

/**
 * DuckDB SQL for a call of `name` with `args` (each argument's tokens), whose arguments `translate` turns
 * into DuckDB SQL.
 */
export function rewriteCall(
  name: string,
  args: readonly (readonly Token[])[],
  translate: (tokens: readonly Token[]) => string,
): string {
  const arity = (n: number) => {
    if (args.length !== n) {
      throw new SnowflakeSqlError(
        '001044',
        '42P13',
        `SQL compilation error: error line 1 at position 0\nInvalid argument types for function '${name}': ${args.length} argument(s).`,
      );
    }
  };
  switch (name) {
    case 'TO_VARCHAR':
    case 'TO_CHAR':
      if (args.length !== 1) throw notSupported(`${name} with a format model`);
      return `CAST((${translate(args[0] as Token[])}) AS VARCHAR)`;
    case 'TO_NUMBER':
    case 'TO_DECIMAL':
    case 'TO_NUMERIC': {
      const format = significant(args[1] ?? [])[0];
      if (args.length !== 2 || format?.kind !== 'string' || !/^X{1,15}$/i.test(format.value)) {
        throw notSupported(`${name} other than with a format of 1 to 15 hexadecimal digits ('XXXX')`);
      }
      const text = `(${translate(args[0] as Token[])})`;
      // As the format model reads it: every character a hexadecimal digit, no more than the model has.
      return `CASE WHEN ${text} IS NULL THEN NULL WHEN length(${text}) BETWEEN 1 AND ${format.value.length} AND regexp_full_match(${text}, '[0-9a-fA-F]+') THEN CAST(('0x' || ${text}) AS BIGINT) ELSE error('100038: Numeric value ''' || ${text} || ''' is not recognized') END`;
    }
    case 'DATEDIFF': {
      arity(3);
      const part = partName(args[0] as Token[]);
      const duck = part === null ? undefined : DATEDIFF_PARTS[part];
      if (duck === undefined)
        throw notSupported(`DATEDIFF by ${part ?? 'that part'} (only DAY and MICROSECOND)`);
      return `date_diff('${duck}', ${translate(args[1] as Token[])}, ${translate(args[2] as Token[])})`;
    }
    case 'DATE_PART': {
      arity(2);
      const part = partName(args[0] as Token[]);
      if (part === null || !EPOCH_MICROSECOND.has(part)) {
        throw notSupported(`DATE_PART of ${part ?? 'that part'} (only EPOCH_MICROSECOND)`);
      }
      return `epoch_us(${translate(args[1] as Token[])})`;
    }
    case 'TO_JSON': {
      arity(1);
      const json = `json(${translate(args[0] as Token[])})`;
      // A `{` outside every string of the compact text is an object's. The pattern's escaped backslashes
      // are chr(92) twice: the statement's text holds none, so no layer can read them as escapes.
      const bs = `' || chr(92) || chr(92) || '`;
      const objectOutsideStrings = `'^([^"{${bs}]|"([^"${bs}]|${bs}.)*")*[{]'`;
      return `CASE WHEN regexp_matches(CAST(${json} AS VARCHAR), ${objectOutsideStrings}) THEN error('${UNSUPPORTED_AT_RUN}TO_JSON of a value holding an OBJECT, whose key-value pairs Snowflake writes in an order it documents as not predictable') ELSE CAST(${json} AS VARCHAR) END`;
    }
    default:
      throw notSupported(`the function ${name}`);
  }
}
