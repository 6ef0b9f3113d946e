// Snowflake's ALTER SESSION SET and UNSET (https://docs.snowflake.com/en/sql-reference/sql/alter-session): every
// name must be a documented parameter and every value of its type; the session's values shape what runs next.
import type { QueryResult } from './engine-types';
import { STATEMENT_TYPE } from './engine-types';
import { syntaxError } from './errors';
import { checkAssignment, checkName, type ParameterValue } from './parameters';
import { Cursor, significant, splitTopLevel, tokenize } from './sql-tokens';
import { statementExecuted } from './status';

/** Runs ALTER SESSION SET|UNSET against `parameters`; null for any other statement. */
export function runSessionStatement(
  parameters: Record<string, ParameterValue>,
  sqlText: string,
): QueryResult | null {
  const cur = new Cursor(significant(tokenize(sqlText)));
  if (!cur.accept('ALTER', 'SESSION')) return null;
  const unset = cur.accept('UNSET');
  if ((!unset && !cur.accept('SET')) || cur.done()) return null;
  if (unset) {
    const names = splitTopLevel(cur.rest()).map((name) =>
      name
        .map((t) => t.text)
        .join('')
        .toUpperCase(),
    );
    for (const name of names) checkName(name);
    for (const name of names) delete parameters[name];
    return statementExecuted(STATEMENT_TYPE.SCL);
  }
  for (;;) {
    const start = cur.peek()?.pos ?? sqlText.length;
    const near = () =>
      syntaxError(`syntax error in ALTER SESSION near '${sqlText.slice(start, start + 30)}'.`);
    const name = cur.peek();
    if (name?.kind !== 'word') throw near();
    cur.next();
    if (!cur.acceptOp('=') || cur.done() || cur.peek()?.text === ',') throw near();
    const raw =
      cur.peek()?.kind === 'string' ? cur.next().value : parseParameterValue(cur.adjacentText([',']));
    const value = checkAssignment(name.value, raw);
    // Each assignment takes effect once its comma (or the end) is there, even if a later one is wrong.
    if (!cur.done() && !cur.acceptOp(',')) throw near();
    parameters[name.value] = value;
    if (cur.done()) return statementExecuted(STATEMENT_TYPE.SCL);
  }
}

/** An unquoted value: a boolean, a number, or a word (uppercased, as Snowflake keeps enum values). */
export function parseParameterValue(raw: string): ParameterValue {
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw.toUpperCase();
}
