// Parses Snowflake's `KEY = value` option lists (stages, file formats, integrations, COPY), where a value
// is a literal, a name, a parenthesised list of literals or a nested option list.
import type { Options } from './catalog';
import { Cursor, significant, type Token } from './sql-tokens';

function isValueStart(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'string' || t.kind === 'number');
}

/** Reads options until the end of the cursor or a word in `stopAt`; keys are uppercased. */
export function parseOptions(cur: Cursor, stopAt: readonly string[] = []): Options {
  const out: Options = {};
  while (!cur.done() && !(cur.peek()?.kind === 'word' && stopAt.includes(cur.peek()?.value ?? ''))) {
    const keyToken = cur.next();
    if (keyToken.kind !== 'word') {
      cur.index--;
      throw cur.unexpected();
    }
    const key = keyToken.value;
    if (!cur.acceptOp('=')) {
      out[key] = 'TRUE';
      continue;
    }
    out[key] = parseValue(cur);
  }
  return out;
}

function parseValue(cur: Cursor): string | string[] | Options {
  const t = cur.peek();
  if (t?.kind === 'op' && t.text === '(') {
    const group = cur.parenGroup();
    const sig = significant(group);
    if (sig.length === 0) return [];
    if (isValueStart(sig[0]) || (sig[0]?.kind === 'word' && sig[1]?.text !== '=')) {
      return sig.filter((x) => x.text !== ',').map((x) => x.value);
    }
    return parseOptions(new Cursor(sig));
  }
  const v = cur.next();
  if (v.kind === 'op' && v.text === '-' && cur.peek()?.kind === 'number') return `-${cur.next().value}`;
  return v.value;
}

export function optString(options: Options, key: string): string | undefined {
  const v = options[key];
  return typeof v === 'string' ? v : undefined;
}

export function optBool(options: Options, key: string, fallback: boolean): boolean {
  const v = optString(options, key);
  if (v === undefined) return fallback;
  return /^(TRUE|1|YES|ON)$/i.test(v);
}

export function optList(options: Options, key: string): string[] | undefined {
  const v = options[key];
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  return undefined;
}

export function optNested(options: Options, key: string): Options | undefined {
  const v = options[key];
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}
