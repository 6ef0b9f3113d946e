// Snowflake's reserved and limited keywords (https://docs.snowflake.com/en/sql-reference/reserved-keywords): an
// unquoted one is refused where a statement names a table, a column or an alias; quoted it is an ordinary name.
import { unexpectedToken } from './errors';
import type { Cursor, Token } from './sql-tokens';

/** "Reserved by ANSI", "Reserved by Snowflake" and "Reserved by Snowflake and others". */
const RESERVED = new Set([
  'ALL',
  'ALTER',
  'AND',
  'ANY',
  'AS',
  'BETWEEN',
  'BY',
  'CHECK',
  'COLUMN',
  'CONNECT',
  'CREATE',
  'CURRENT',
  'DELETE',
  'DISTINCT',
  'DROP',
  'ELSE',
  'EXISTS',
  'FOLLOWING',
  'FOR',
  'FROM',
  'GRANT',
  'GROUP',
  'HAVING',
  'ILIKE',
  'IN',
  'INCREMENT',
  'INSERT',
  'INTERSECT',
  'INTO',
  'IS',
  'LIKE',
  'MINUS',
  'NOT',
  'NULL',
  'OF',
  'ON',
  'OR',
  'ORDER',
  'QUALIFY',
  'REGEXP',
  'REVOKE',
  'RLIKE',
  'ROW',
  'ROWS',
  'SAMPLE',
  'SELECT',
  'SET',
  'SOME',
  'START',
  'TABLE',
  'TABLESAMPLE',
  'THEN',
  'TO',
  'TRIGGER',
  'UNION',
  'UNIQUE',
  'UPDATE',
  'VALUES',
  'WHENEVER',
  'WHERE',
  'WINDOW',
  'WITH',
]);

/** "Cannot be used as column name (reserved by ANSI)." */
const NOT_COLUMN_NAMES = new Set([
  'CURRENT_DATE',
  'CURRENT_TIME',
  'CURRENT_TIMESTAMP',
  'CURRENT_USER',
  'LOCALTIME',
  'LOCALTIMESTAMP',
]);

/** "Cannot be used as column reference in a scalar expression." */
const NOT_COLUMN_REFERENCES = new Set(['CASE', 'CAST', 'FALSE', 'TRUE', 'TRY_CAST', 'WHEN']);

/** "Cannot be used as table name or alias in a FROM clause." */
const NOT_TABLE_NAMES = new Set([
  'CROSS',
  'FULL',
  'INNER',
  'JOIN',
  'LATERAL',
  'LEFT',
  'NATURAL',
  'RIGHT',
  'USING',
]);

/** "Cannot be used as a column name in CREATE TABLE DDL." */
const NOT_DDL_COLUMN_NAMES = new Set(['CONSTRAINT']);

export type IdentifierUse = 'table' | 'column' | 'column-definition' | 'column-reference' | 'alias';

/** True when an unquoted word may not stand where a statement uses it as a name. */
export function refusedAs(word: string, use: IdentifierUse): boolean {
  if (RESERVED.has(word)) return true;
  switch (use) {
    case 'table':
      return NOT_TABLE_NAMES.has(word);
    case 'column-definition':
      return NOT_COLUMN_NAMES.has(word) || NOT_DDL_COLUMN_NAMES.has(word) || NOT_COLUMN_REFERENCES.has(word);
    case 'column':
      return NOT_COLUMN_NAMES.has(word) || NOT_COLUMN_REFERENCES.has(word);
    case 'column-reference':
      return NOT_COLUMN_REFERENCES.has(word);
    case 'alias':
      return NOT_TABLE_NAMES.has(word);
  }
}

/** Refuses an unquoted reserved word used as a name, as Snowflake's parser does (001003). */
export function checkName(token: Token | undefined, use: IdentifierUse): void {
  if (token?.kind === 'word' && refusedAs(token.value, use)) throw unexpectedToken(token.pos, token.text);
}

/** Words that are values, not column references, where an expression expects an operand. */
const VALUE_WORDS = new Set([
  'NULL',
  'TRUE',
  'FALSE',
  ...NOT_COLUMN_NAMES,
  'ANY',
  'SOME',
  'ALL',
  'NOT',
  'EXISTS',
  'CASE',
  'CAST',
  'TRY_CAST',
  'SELECT',
  'INTERVAL',
]);

const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/**
 * The places in a DML or query statement where an unquoted reserved word can only be a column: next to a
 * qualifying dot (`t.START`), or as an operand of a comparison (`START >= ?`, `t.x = rows`). Snowflake's
 * parser refuses those; DuckDB would take them as names.
 */
export function checkColumnReferences(sig: readonly Token[]): void {
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.kind !== 'word') continue;
    const prev = sig[i - 1];
    const next = sig[i + 1];
    const qualified = prev?.text === '.' || (next?.text === '.' && sig[i + 2]?.text !== '*');
    if (qualified && refusedAs(t.value, 'column-reference') && !VALUE_WORDS.has(t.value)) {
      throw unexpectedToken(t.pos, t.text);
    }
    const compared =
      (next?.kind === 'op' && COMPARISON.has(next.text)) ||
      (prev?.kind === 'op' && COMPARISON.has(prev.text));
    if (compared && RESERVED.has(t.value) && !VALUE_WORDS.has(t.value)) throw unexpectedToken(t.pos, t.text);
  }
}

/** Every name in a parenthesised column list (`INSERT INTO t (a, b)`, `COPY INTO t (a, b)`). */
export function checkColumnList(tokens: readonly Token[]): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const prev = tokens[i - 1];
    if (t.kind === 'word' && (i === 0 || prev?.text === ',')) checkName(t, 'column');
  }
}

/** A dotted name of one to three parts, each refused if it is an unquoted reserved word. */
export function readName(cur: Cursor, use: IdentifierUse = 'table'): string[] {
  const parts: string[] = [];
  for (;;) {
    checkName(cur.peek(), use);
    parts.push(cur.ident());
    if (parts.length >= 3 || !cur.acceptOp('.')) return parts;
  }
}
