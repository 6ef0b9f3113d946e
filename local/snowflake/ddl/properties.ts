// What the account objects' DDL shares: reading `NAME = value` property lists as CREATE / ALTER WAREHOUSE and
// CREATE RESOURCE MONITOR write them, and the errors for a value Snowflake does not take.
import { SnowflakeSqlError } from '../engine-types';
import { syntaxError, unexpectedToken } from '../errors';
import type { Cursor, Token } from '../sql-tokens';
import type { CreateModifiers } from './common';

/** A property's value as written: one literal or word, a negative number, or a parenthesised list. */
export type PropertyValue =
  | { readonly kind: 'word' | 'number' | 'string'; readonly text: string; readonly token: Token }
  | { readonly kind: 'list'; readonly items: readonly Token[]; readonly token: Token };

export interface Property {
  readonly name: string;
  /** The name as written, for errors that point at it. */
  readonly token: Token;
  readonly value: PropertyValue;
}

function readValue(cur: Cursor): PropertyValue {
  const first = cur.peek();
  if (first?.kind === 'op' && first.text === '(') {
    const items = cur.parenGroup().filter((t) => t.text !== ',');
    return { kind: 'list', items, token: first };
  }
  const t = cur.next();
  if (t.kind === 'op' && t.text === '-' && cur.peek()?.kind === 'number') {
    return { kind: 'number', text: `-${cur.next().value}`, token: t };
  }
  if (t.kind === 'number' || t.kind === 'string') return { kind: t.kind, text: t.value, token: t };
  if (t.kind === 'word' || t.kind === 'qident') return { kind: 'word', text: t.value, token: t };
  cur.index--;
  throw cur.unexpected();
}

/**
 * Reads `NAME = value` pairs until the end of the statement or a word in `stopAt`. `commas` lets a comma
 * stand between pairs, as ALTER ... SET allows ("separated by blank spaces, commas, or new lines").
 */
export function readProperties(
  cur: Cursor,
  options: { stopAt?: readonly string[]; commas?: boolean } = {},
): Property[] {
  const out: Property[] = [];
  while (!cur.done() && !cur.isWord(...(options.stopAt ?? []))) {
    if (options.commas && out.length > 0 && cur.acceptOp(',')) continue;
    const token = cur.next();
    if (token.kind !== 'word') throw unexpectedToken(token.pos, token.text);
    cur.expectOp('=');
    out.push({ name: token.value, token, value: readValue(cur) });
  }
  return out;
}

/** 001006, as for an out-of-range parameter value. */
export function invalidPropertyValue(name: string, text: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '001006',
    '22023',
    `SQL compilation error:\ninvalid value [${text}] for property '${name}'`,
  );
}

/** A rule between properties the documentation states, broken; 001006 as for an invalid value. */
export function invalidProperties(message: string): SnowflakeSqlError {
  return new SnowflakeSqlError('001006', '22023', `SQL compilation error:\n${message}`);
}

/** A property name the statement does not have, refused as Snowflake's grammar refuses an unexpected word. */
export function unknownProperty(property: Property): SnowflakeSqlError {
  return unexpectedToken(property.token.pos, property.token.text);
}

/** A whole number written as a plain literal (no sign, no fraction), or undefined. */
export function wholeNumber(value: PropertyValue): number | undefined {
  if (value.kind !== 'number' || !/^\d+$/.test(value.text)) return undefined;
  const n = Number(value.text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** TRUE or FALSE written as a keyword, or undefined. */
export function booleanWord(value: PropertyValue): boolean | undefined {
  if (value.kind !== 'word' || value.token.kind !== 'word') return undefined;
  if (value.text === 'TRUE') return true;
  if (value.text === 'FALSE') return false;
  return undefined;
}

/** The value's text as it appears in an error. */
export function valueText(value: PropertyValue): string {
  return value.kind === 'list' ? `(${value.items.map((t) => t.text).join(', ')})` : value.text;
}

/**
 * "The OR REPLACE and IF NOT EXISTS clauses are mutually exclusive. They can't both be used in the same
 * statement." (CREATE WAREHOUSE, CREATE RESOURCE MONITOR).
 */
export function requireExclusiveModifiers(modifiers: CreateModifiers): void {
  if (modifiers.orReplace && modifiers.ifNotExists) {
    throw syntaxError('OR REPLACE and IF NOT EXISTS are incompatible.');
  }
}
