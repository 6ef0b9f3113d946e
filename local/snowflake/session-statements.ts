// Snowflake's ALTER SESSION SET and UNSET. The session's parameters live with the server rather than the
// engine because they shape every response: the driver formats dates, times and binaries from them.
import type { QueryResult } from './engine-types';
import { STATEMENT_TYPE } from './engine-types';
import { syntaxError } from './errors';
import { Cursor, significant, splitTopLevel, tokenize } from './sql-tokens';
import { statementExecuted } from './status';
import type { ParameterValue } from './wire';

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
    for (const name of splitTopLevel(cur.rest())) {
      delete parameters[
        name
          .map((t) => t.text)
          .join('')
          .toUpperCase()
      ];
    }
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
    const value =
      cur.peek()?.kind === 'string' ? cur.next().value : parseParameterValue(cur.adjacentText([',']));
    // Each assignment takes effect once its comma (or the end) is there, even if a later one is wrong.
    if (!cur.done() && !cur.acceptOp(',')) throw near();
    parameters[name.value] = value;
    if (cur.done()) return statementExecuted(STATEMENT_TYPE.SCL);
  }
}

/** An unquoted value: a boolean, a number, or a word (uppercased, as Snowflake keeps enum values). */
function parseParameterValue(raw: string): ParameterValue {
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw.toUpperCase();
}
