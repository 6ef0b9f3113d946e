// A tokenizer for Snowflake SQL, so that translation never touches what is inside string literals, quoted
// identifiers or comments, plus a small cursor used by the statement parsers.
import type { SnowflakeSqlError } from './engine-types';
import { syntaxError, unexpectedToken } from './errors';

export type TokenKind = 'ws' | 'comment' | 'word' | 'qident' | 'string' | 'number' | 'bind' | 'stage' | 'op';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token. */
  readonly text: string;
  /** Decoded value: a string literal's content, a quoted identifier's name, a word's uppercase form. */
  readonly value: string;
  /** For binds: the 1-based bind position. */
  readonly bindIndex?: number;
  readonly pos: number;
}

const OPERATORS = ['::', '<>', '!=', '>=', '<=', '||', '=>', '->', '->>'];

export interface TokenizeOptions {
  /** QUOTED_IDENTIFIERS_IGNORE_CASE: quoted identifiers resolve upper-case, as unquoted ones do. */
  readonly foldQuotedIdentifiers?: boolean;
}

/** Splits SQL into tokens; positional binds `?` are numbered left to right, `:n` keep their number. */
export function tokenize(sql: string, options: TokenizeOptions = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let nextBind = 1;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i] as string)) i++;
      tokens.push({ kind: 'ws', text: sql.slice(start, i), value: ' ', pos: start });
    } else if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '/')) {
      while (i < n && sql[i] !== '\n') i++;
      tokens.push({ kind: 'comment', text: sql.slice(start, i), value: ' ', pos: start });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError(`syntax error line 1 at position ${start} unexpected end of comment.`);
      i = end + 2;
      tokens.push({ kind: 'comment', text: sql.slice(start, i), value: ' ', pos: start });
    } else if (c === "'") {
      const { value, end } = readQuoted(sql, start, "'");
      i = end;
      tokens.push({ kind: 'string', text: sql.slice(start, i), value, pos: start });
    } else if (c === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) throw syntaxError(`syntax error line 1 at position ${start} unexpected end of string.`);
      i = end + 2;
      tokens.push({
        kind: 'string',
        text: sql.slice(start, i),
        value: sql.slice(start + 2, end),
        pos: start,
      });
    } else if (c === '"') {
      const { value, end } = readQuoted(sql, start, '"');
      i = end;
      tokens.push({
        kind: 'qident',
        text: sql.slice(start, i),
        value: options.foldQuotedIdentifiers ? value.toUpperCase() : value,
        pos: start,
      });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] as string)) i++;
      const text = sql.slice(start, i);
      tokens.push({ kind: 'word', text, value: text.toUpperCase(), pos: start });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9.]/.test(sql[i] as string)) i++;
      if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      }
      const text = sql.slice(start, i);
      tokens.push({ kind: 'number', text, value: text, pos: start });
    } else if (c === '?') {
      i++;
      tokens.push({ kind: 'bind', text: '?', value: '?', bindIndex: nextBind++, pos: start });
    } else if (c === ':' && /[0-9]/.test(sql[i + 1] ?? '')) {
      i++;
      while (i < n && /[0-9]/.test(sql[i] as string)) i++;
      const text = sql.slice(start, i);
      tokens.push({ kind: 'bind', text, value: text, bindIndex: Number(text.slice(1)), pos: start });
    } else if (c === '@') {
      // A stage reference runs to the next blank, comma, parenthesis or semicolon; quoted parts may hold blanks.
      i++;
      while (i < n && !/[\s,();]/.test(sql[i] as string)) {
        if (sql[i] === '"') {
          const end = sql.indexOf('"', i + 1);
          i = end < 0 ? n : end + 1;
        } else i++;
      }
      const text = sql.slice(start, i);
      tokens.push({ kind: 'stage', text, value: text.slice(1), pos: start });
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i)) ?? c;
      i += op.length;
      tokens.push({ kind: 'op', text: op, value: op, pos: start });
    }
  }
  return tokens;
}

/**
 * A string literal (`'`) or quoted identifier (`"`) starting at `start`: its decoded value and the index
 * after its closing quote. A doubled quote stands for one; only string literals know backslash escapes.
 */
function readQuoted(sql: string, start: number, quote: "'" | '"'): { value: string; end: number } {
  const escapes = quote === "'";
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= sql.length) {
      const what = escapes ? 'string' : 'identifier';
      throw syntaxError(`syntax error line 1 at position ${start} unexpected end of ${what}.`);
    }
    const ch = sql[i] as string;
    if (escapes && ch === '\\' && i + 1 < sql.length) {
      const escaped = unescapeAt(sql, i + 1);
      value += escaped.text;
      i = escaped.end;
    } else if (ch === quote) {
      if (sql[i + 1] !== quote) return { value, end: i + 1 };
      value += quote;
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
}

/**
 * The escape sequence after a backslash in a string literal, as Snowflake reads them: `\\n` and the like,
 * octal `\\ooo`, hex `\\xhh`, Unicode `\\uhhhh`, and any other character standing for itself
 * (https://docs.snowflake.com/en/sql-reference/data-types-text#escape-sequences-in-single-quoted-string-constants).
 */
function unescapeAt(sql: string, i: number): { text: string; end: number } {
  const ch = sql[i] as string;
  const octal = /^[0-7]{3}/.exec(sql.slice(i, i + 3));
  if (octal) return { text: String.fromCharCode(Number.parseInt(octal[0], 8)), end: i + 3 };
  const hex = ch === 'x' ? /^[0-9A-Fa-f]{2}/.exec(sql.slice(i + 1, i + 3)) : null;
  if (hex) return { text: String.fromCharCode(Number.parseInt(hex[0], 16)), end: i + 3 };
  const unicode = ch === 'u' ? /^[0-9A-Fa-f]{4}/.exec(sql.slice(i + 1, i + 5)) : null;
  if (unicode) return { text: String.fromCharCode(Number.parseInt(unicode[0], 16)), end: i + 5 };
  const simple: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' };
  return { text: simple[ch] ?? ch, end: i + 1 };
}

/** Tokens that carry meaning (no blanks or comments). */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

/** A DuckDB string literal for any text. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A DuckDB quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A dotted DuckDB name (`"DB"."SCHEMA"."TABLE"`), every part quoted. */
export function quoteQualified(parts: readonly string[]): string {
  return parts.map(quoteIdent).join('.');
}

/** Significant tokens with a blank after each, so that a fragment translates as if written out. */
export function withBlanks(tokens: readonly Token[]): Token[] {
  return tokens.flatMap((t) => [t, { kind: 'ws' as const, text: ' ', value: ' ', pos: -1 }]);
}

/** Identifier name as Snowflake resolves it: unquoted uppercased, quoted kept. */
export function identName(token: Token): string | undefined {
  if (token.kind === 'word') return token.value;
  if (token.kind === 'qident') return token.value;
  return undefined;
}

/** Walks significant tokens; the statement parsers use it for the shapes they accept. */
export class Cursor {
  index = 0;
  constructor(readonly tokens: readonly Token[]) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  done(): boolean {
    return (
      this.index >= this.tokens.length || (this.peek()?.text === ';' && this.index === this.tokens.length - 1)
    );
  }

  next(): Token {
    const t = this.tokens[this.index];
    if (!t) throw syntaxError('syntax error line 1 at position 0 unexpected end of statement.');
    this.index++;
    return t;
  }

  isWord(...words: string[]): boolean {
    const t = this.peek();
    return t?.kind === 'word' && words.includes(t.value);
  }

  /** Consumes the given sequence of keywords if all are next. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.peek(k);
      if (t?.kind !== 'word' || t.value !== words[k]) return false;
    }
    this.index += words.length;
    return true;
  }

  expect(...words: string[]): void {
    if (!this.accept(...words)) throw this.unexpected();
  }

  acceptOp(op: string): boolean {
    if (this.peek()?.kind === 'op' && this.peek()?.text === op) {
      this.index++;
      return true;
    }
    return false;
  }

  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.unexpected();
  }

  unexpected(): SnowflakeSqlError {
    const t = this.peek();
    return t
      ? unexpectedToken(t.pos, t.text)
      : syntaxError('syntax error line 1 at position 0 unexpected end of statement.');
  }

  ident(): string {
    const t = this.next();
    const name = identName(t);
    if (name === undefined) {
      this.index--;
      throw this.unexpected();
    }
    return name;
  }

  /** Consumes an identifier if one is next. */
  acceptIdent(): string | undefined {
    const t = this.peek();
    const name = t && identName(t);
    if (name !== undefined) this.index++;
    return name;
  }

  /**
   * The source text of the tokens that follow one another without a blank (`-1`, `1.5`, `db.schema`,
   * `"Name"`), as an unquoted option value is written; it ends before a string literal, a `;` or an `ends`
   * operator.
   */
  adjacentText(ends: readonly string[] = []): string {
    let text = '';
    let last: Token | undefined;
    for (
      let t = this.peek();
      t && t.kind !== 'string' && t.text !== ';' && !ends.includes(t.text);
      t = this.peek()
    ) {
      if (last && t.pos !== last.pos + last.text.length) break;
      text += t.text;
      last = this.next();
    }
    if (!last) throw this.unexpected();
    return text;
  }

  /** A dotted name of one to three parts. */
  name(): string[] {
    const parts = [this.ident()];
    while (parts.length < 3 && this.acceptOp('.')) parts.push(this.ident());
    return parts;
  }

  /** Tokens up to the matching close parenthesis; the cursor must be on `(`. */
  parenGroup(): Token[] {
    this.expectOp('(');
    const start = this.index;
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'op' && t.text === '(') depth++;
      if (t.kind === 'op' && t.text === ')') depth--;
    }
    return this.tokens.slice(start, this.index - 1) as Token[];
  }

  rest(): Token[] {
    const out = this.tokens.slice(this.index).filter((t) => t.text !== ';');
    this.index = this.tokens.length;
    return out as Token[];
  }
}

/** Splits tokens on top-level commas. */
export function splitTopLevel(tokens: readonly Token[], separator = ','): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && t.text === '(') depth++;
    if (t.kind === 'op' && t.text === ')') depth--;
    if (depth === 0 && t.kind === 'op' && t.text === separator) parts.push([]);
    else parts[parts.length - 1]?.push(t);
  }
  return parts.filter((p) => p.length > 0);
}
