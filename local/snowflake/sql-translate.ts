// Rewrites Snowflake SQL text into DuckDB SQL token by token: unquoted identifiers uppercased, Snowflake
// types in casts mapped, binds inlined as literals, a few functions renamed, session functions answered.
import type { Bind, SessionState } from './engine-types';
import { SnowflakeSqlError } from './engine-types';
import { REWRITTEN_FUNCTIONS, rewriteCall } from './functions';
import { sfType } from './sf-types';
import { quoteIdent, sqlString, type Token } from './sql-tokens';

export interface TranslateContext {
  readonly binds: readonly Bind[];
  /** Which element of array binds to use (array binds give one row each). */
  readonly row: number;
  readonly session: SessionState;
}

const RENAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  IFF: 'IF',
  NVL: 'COALESCE',
  PARSE_JSON: 'JSON',
  LEN: 'LENGTH',
  TO_BINARY: 'UNHEX',
};

/** Functions that Snowflake writes with parentheses and DuckDB without. */
const NILADIC = new Set(['CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME', 'LOCALTIMESTAMP', 'LOCALTIME']);

/** The DuckDB literal for a bind value of the driver's bind type. */
export function bindLiteral(type: string, value: string | null): string {
  if (value === null) return 'NULL';
  switch (type.toUpperCase()) {
    case 'FIXED':
      return /^-?\d+(\.\d+)?$/.test(value) ? value : sqlString(value);
    case 'REAL':
      return `CAST(${sqlString(value)} AS DOUBLE)`;
    case 'BOOLEAN':
      return /^(true|1|t|yes|y|on)$/i.test(value) ? 'TRUE' : 'FALSE';
    default:
      return sqlString(value);
  }
}

export function bindValue(ctx: TranslateContext, index: number): string {
  const bind = ctx.binds[index - 1];
  if (!bind) {
    throw new SnowflakeSqlError(
      '002049',
      '42601',
      `SQL compilation error: error line 1 at position 0\nBind variable ${index === 0 ? '?' : `:${index}`} not set.`,
    );
  }
  const v = bind.value;
  const scalar = Array.isArray(v)
    ? ((v as readonly (string | null)[])[ctx.row] ?? null)
    : (v as string | null);
  return bindLiteral(bind.type, scalar);
}

/** Number of rows an array bind describes (1 for scalar binds). */
export function bindRows(binds: readonly Bind[]): number {
  let rows = 1;
  for (const b of binds) if (Array.isArray(b.value)) rows = Math.max(rows, b.value.length);
  return rows;
}

export function hasArrayBinds(binds: readonly Bind[]): boolean {
  return binds.some((b) => Array.isArray(b.value));
}

function isOp(t: Token | undefined, op: string): boolean {
  return t?.kind === 'op' && t.text === op;
}

function nextSignificant(tokens: readonly Token[], i: number): number {
  let j = i;
  while (j < tokens.length && (tokens[j]?.kind === 'ws' || tokens[j]?.kind === 'comment')) j++;
  return j;
}

/** Reads a type name with optional (p[,s]) at `i`; returns the DuckDB type and the index after it. */
export function readType(
  tokens: readonly Token[],
  i: number,
): { duck: string; canonical: string; end: number } {
  const t = tokens[i];
  if (!t || (t.kind !== 'word' && t.kind !== 'qident')) {
    throw new SnowflakeSqlError(
      '001003',
      '42000',
      `SQL compilation error:\nsyntax error line 1 at position ${t?.pos ?? 0} unexpected '${t?.text ?? ''}'.`,
    );
  }
  let name = t.value.toUpperCase();
  let end = i + 1;
  // Two-word type names.
  const after = nextSignificant(tokens, end);
  if (name === 'DOUBLE' && tokens[after]?.value === 'PRECISION') end = after + 1;
  if ((name === 'CHAR' || name === 'CHARACTER') && tokens[after]?.value === 'VARYING') {
    name = 'VARCHAR';
    end = after + 1;
  }
  const args: number[] = [];
  const open = nextSignificant(tokens, end);
  if (isOp(tokens[open], '(')) {
    let j = open + 1;
    while (j < tokens.length && !isOp(tokens[j], ')')) {
      const tok = tokens[j] as Token;
      if (tok.kind === 'number') args.push(Number(tok.text));
      j++;
    }
    end = j + 1;
  }
  const sf = sfType(name, args);
  return { duck: sf.duck, canonical: sf.canonical, end };
}

/** Translates a token run (blanks and comments included) into DuckDB SQL. */
export function translateTokens(tokens: readonly Token[], ctx: TranslateContext): string {
  let out = '';
  const parens: string[] = [];
  let prevSig: Token | undefined;
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    if (t.kind === 'ws' || t.kind === 'comment') {
      out += t.kind === 'ws' ? t.text : ' ';
      i++;
      continue;
    }
    const castType =
      isOp(prevSig, '::') || (prevSig?.kind === 'word' && prevSig.value === 'AS' && parens.at(-1) === 'CAST');
    if (castType && (t.kind === 'word' || t.kind === 'qident')) {
      const type = readType(tokens, i);
      out += type.duck;
      prevSig = tokens[type.end - 1];
      i = type.end;
      continue;
    }
    switch (t.kind) {
      case 'word': {
        const nextIdx = nextSignificant(tokens, i + 1);
        const callsFunction = isOp(tokens[nextIdx], '(');
        const session = sessionFunction(t.value, ctx.session);
        if (
          callsFunction &&
          session !== undefined &&
          isOp(tokens[nextSignificant(tokens, nextIdx + 1)], ')')
        ) {
          out += session;
          i = nextSignificant(tokens, nextIdx + 1) + 1;
          prevSig = tokens[i - 1];
          continue;
        }
        if (
          callsFunction &&
          NILADIC.has(t.value) &&
          isOp(tokens[nextSignificant(tokens, nextIdx + 1)], ')')
        ) {
          out += t.value;
          i = nextSignificant(tokens, nextIdx + 1) + 1;
          prevSig = tokens[i - 1];
          continue;
        }
        if (callsFunction && REWRITTEN_FUNCTIONS.has(t.value)) {
          const call = callArguments(tokens, nextIdx);
          out += rewriteCall(t.value, call.args, (arg) => translateTokens(arg, ctx));
          i = call.end;
          prevSig = tokens[i - 1];
          continue;
        }
        if (callsFunction) out += RENAMED_FUNCTIONS[t.value] ?? t.value;
        else out += /^[A-Z_][A-Z0-9_]*$/.test(t.value) ? t.value : quoteIdent(t.value);
        break;
      }
      case 'qident':
        out += quoteIdent(t.value);
        break;
      case 'string':
        out += sqlString(t.value);
        break;
      case 'bind':
        out += bindValue(ctx, t.bindIndex ?? 0);
        break;
      case 'stage':
        throw new SnowflakeSqlError(
          '000002',
          '0A000',
          'not supported by the local Snowflake stand-in: querying a stage directly (use COPY INTO)',
        );
      default:
        if (t.text === '(') parens.push(prevSig?.kind === 'word' ? prevSig.value : '');
        if (t.text === ')') parens.pop();
        out += t.text;
    }
    prevSig = t;
    i++;
  }
  return out;
}

/** The arguments of a call whose `(` is at `open`, split at the commas outside parentheses, and where it ends. */
function callArguments(tokens: readonly Token[], open: number): { args: Token[][]; end: number } {
  const args: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (let j = open + 1; j < tokens.length; j++) {
    const tok = tokens[j] as Token;
    if (isOp(tok, '(')) depth++;
    if (isOp(tok, ')')) {
      if (depth === 0) {
        if (current.some((x) => x.kind !== 'ws' && x.kind !== 'comment') || args.length > 0)
          args.push(current);
        return { args, end: j + 1 };
      }
      depth--;
    }
    if (depth === 0 && isOp(tok, ',')) {
      args.push(current);
      current = [];
      continue;
    }
    current.push(tok);
  }
  throw new SnowflakeSqlError(
    '001003',
    '42000',
    'SQL compilation error:\nsyntax error line 1 at position 0 unexpected end of statement.',
  );
}

function sessionFunction(name: string, session: SessionState): string | undefined {
  switch (name) {
    case 'CURRENT_DATABASE':
      return session.database ? sqlString(session.database) : 'NULL';
    case 'CURRENT_SCHEMA':
      return session.schema ? sqlString(session.schema) : 'NULL';
    case 'CURRENT_ROLE':
      return sqlString(session.role);
    case 'CURRENT_USER':
      return sqlString(session.user);
    case 'CURRENT_WAREHOUSE':
      return session.warehouse ? sqlString(session.warehouse) : 'NULL';
    case 'CURRENT_SESSION':
      return sqlString(session.id);
    default:
      return undefined;
  }
}

const LIST_END = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'UNION',
  'EXCEPT',
  'MINUS',
  'INTERSECT',
  'HAVING',
  'QUALIFY',
  'OFFSET',
  'FETCH',
  'INTO',
]);
const NOT_ALIAS = new Set(['END', 'NULL', 'TRUE', 'FALSE', 'DISTINCT']);
const OPERATOR_WORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'IS',
  'IN',
  'LIKE',
  'ILIKE',
  'WHEN',
  'THEN',
  'ELSE',
  'CASE',
  'BETWEEN',
]);

/**
 * Names the outermost select list's computed columns as Snowflake does (the expression's text, e.g.
 * `COUNT(*)`), since DuckDB names them differently (`count_star()`). Returns tokens with aliases added.
 */
export function withSnowflakeColumnNames(tokens: readonly Token[]): Token[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')')) depth--;
    else if (depth === 0 && t.kind === 'word' && t.value === 'SELECT') {
      start = i + 1;
      break;
    }
  }
  if (start < 0) return [...tokens];
  const items: { from: number; to: number }[] = [];
  let itemStart = start;
  depth = 0;
  let end = tokens.length;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')')) depth--;
    if (depth < 0 || (depth === 0 && ((t.kind === 'word' && LIST_END.has(t.value)) || isOp(t, ';')))) {
      end = i;
      break;
    }
    if (depth === 0 && isOp(t, ',')) {
      items.push({ from: itemStart, to: i });
      itemStart = i + 1;
    }
  }
  items.push({ from: itemStart, to: end });
  const out: Token[] = [];
  let cursor = 0;
  for (const item of items) {
    const sig = tokens.slice(item.from, item.to).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
    if (sig[0]?.kind === 'word' && (sig[0].value === 'DISTINCT' || sig[0].value === 'ALL')) sig.shift();
    if (!needsAlias(sig)) continue;
    let last = item.to - 1;
    while (last > item.from && (tokens[last]?.kind === 'ws' || tokens[last]?.kind === 'comment')) last--;
    out.push(...tokens.slice(cursor, last + 1));
    const name = sig
      .map((t) => (t.kind === 'word' ? t.value : t.kind === 'string' ? `'${t.value.toUpperCase()}'` : t.text))
      .join(' ')
      .replace(/ ?([().,]) ?/g, '$1')
      .replace(/,/g, ', ');
    out.push(
      { kind: 'ws', text: ' ', value: ' ', pos: -1 },
      { kind: 'word', text: 'AS', value: 'AS', pos: -1 },
      { kind: 'ws', text: ' ', value: ' ', pos: -1 },
      { kind: 'qident', text: quoteIdent(name), value: name, pos: -1 },
    );
    cursor = last + 1;
  }
  out.push(...tokens.slice(cursor));
  return out;
}

function needsAlias(sig: readonly Token[]): boolean {
  if (sig.length === 0) return false;
  const last = sig[sig.length - 1] as Token;
  if (isOp(last, '*')) return false;
  // A plain or dotted column name keeps its own name.
  const isName = sig.every((t, k) => (k % 2 === 0 ? t.kind === 'word' || t.kind === 'qident' : isOp(t, '.')));
  if (isName && sig.length % 2 === 1) return false;
  // An alias is already there: `expr AS x` or `expr x`.
  const before = sig[sig.length - 2];
  if ((last.kind === 'word' && !NOT_ALIAS.has(last.value)) || last.kind === 'qident') {
    const operand =
      before !== undefined &&
      (isOp(before, ')') ||
        before.kind === 'qident' ||
        before.kind === 'number' ||
        before.kind === 'string' ||
        (before.kind === 'word' && !OPERATOR_WORDS.has(before.value)));
    if (operand) return false;
  }
  return true;
}
