// Text into a VARIANT as PARSE_JSON reads it (https://docs.snowflake.com/en/sql-reference/functions/parse_json):
// strict JSON, no duplicate keys, numbers kept as NUMBER when they fit and DOUBLE otherwise.
import { SnowflakeSqlError } from './engine-types';
import { unsupported } from './errors';

function jsonError(detail: string, pos: number): SnowflakeSqlError {
  return new SnowflakeSqlError('100069', '22P02', `Error parsing JSON: ${detail}, pos ${pos}`);
}

/**
 * A JSON number as a VARIANT holds it. "PARSE_JSON attempts to preserve the exactness of the representation
 * by treating 123.45 as NUMBER(5,2)", and "numbers that use scientific notation ..., or numbers that cannot
 * be stored as fixed-point decimals due to range or scale limitations, are stored as DOUBLE values" (shown
 * as `1.912000000000000e+02` in the page's example). A NUMBER is written without trailing fraction zeros.
 */
export function variantNumber(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?([eE][+-]?\d+)?$/.exec(text) as RegExpExecArray;
  const [, sign, int, frac = '', exp] = m as unknown as [
    string,
    string,
    string,
    string | undefined,
    string | undefined,
  ];
  const digits = `${int.replace(/^0+(?=\d)/, '')}${frac}`.replace(/^0+/, '');
  if (exp === undefined && digits.length <= 38 && frac.length <= 37) {
    const fraction = frac.replace(/0+$/, '');
    const whole = int.replace(/^0+(?=\d)/, '');
    const zero = /^0*$/.test(whole) && fraction === '';
    return `${zero ? '' : sign}${whole}${fraction ? `.${fraction}` : ''}`;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw unsupported(`the JSON number ${text}, outside the range of a DOUBLE`);
  const [mantissa, exponent] = value.toExponential(15).split('e') as [string, string];
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** Re-serialises JSON text compactly, refusing what PARSE_JSON refuses; undefined for empty input (NULL). */
export function parseVariant(text: string): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && /[ \t\n\r]/.test(text[i] as string)) i++;
  };
  const value = (): string => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      const members: string[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return '{}';
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw jsonError('missing object key', i + 1);
        const keyAt = i;
        const key = string();
        const name = JSON.parse(key) as string;
        if (keys.has(name)) throw jsonError(`duplicate object attribute "${name}"`, keyAt + 1);
        keys.add(name);
        ws();
        if (text[i] !== ':') throw jsonError("missing ':'", i + 1);
        i++;
        members.push(`${key}:${value()}`);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return `{${members.join(',')}}`;
        }
        throw jsonError("missing ',' or '}'", i + 1);
      }
    }
    if (c === '[') {
      i++;
      const items: string[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return `[${items.join(',')}]`;
        }
        throw jsonError("missing ',' or ']'", i + 1);
      }
    }
    if (c === '"') return string();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return literal;
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      return variantNumber(number[0]);
    }
    throw jsonError(c === undefined ? 'unexpected end of input' : `unknown keyword "${c}"`, i + 1);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if ((text.charCodeAt(i) as number) < 0x20) throw jsonError('unescaped control character', i + 1);
      i++;
    }
    if (text[i] !== '"') throw jsonError('unterminated string', start + 1);
    i++;
    const raw = text.slice(start, i);
    try {
      // Escapes decoded and re-encoded the one way JSON.stringify writes them.
      return JSON.stringify(JSON.parse(raw) as string);
    } catch {
      throw jsonError('invalid escape sequence in string', start + 1);
    }
  };
  ws();
  // "If the PARSE_JSON function is called with an empty string, or with a string containing only whitespace
  // characters, then the function returns NULL".
  if (i === text.length) return undefined;
  const result = value();
  ws();
  if (i !== text.length) throw jsonError('extra data after the JSON value', i + 1);
  return result;
}
