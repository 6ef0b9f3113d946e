// Snowflake's MERGE (https://docs.snowflake.com/en/sql-reference/sql/merge): the clauses' privileges, the table
// lock, the rule that decides when a target row joined by several source rows is deterministic, and the counts.
import type { Ctx } from './context';
import { requireTable } from './context';
import { counts } from './dml';
import type { QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { syntaxError, unsupported } from './errors';
import { booleanParameter } from './parameters';
import { requireTablePrivilege, requireWarehouse } from './privileges';
import { checkColumnList, checkColumnReferences, readName } from './reserved';
import { Cursor, quoteIdent, significant, type Token, withBlanks } from './sql-tokens';
import { translateTokens } from './sql-translate';
import { checkReads } from './table-refs';

interface MatchedClause {
  readonly action: 'UPDATE' | 'DELETE';
  /** The tokens of `AND <condition>`, or none. */
  readonly condition: readonly Token[];
}

/** Position of a word at the top level (outside parentheses), from `from`. */
function topLevel(sig: readonly Token[], word: string, from: number): number {
  let depth = 0;
  for (let i = from; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (depth === 0 && t.kind === 'word' && t.value === word) return i;
  }
  return -1;
}

/** The WHEN clauses, each `WHEN [NOT] MATCHED [AND <condition>] THEN <action>`. */
function whenClauses(sig: readonly Token[], from: number): { matched: MatchedClause[]; insert: boolean } {
  const starts: number[] = [];
  for (let i = topLevel(sig, 'WHEN', from); i >= 0; i = topLevel(sig, 'WHEN', i + 1)) starts.push(i);
  const matched: MatchedClause[] = [];
  let insert = false;
  for (const [k, start] of starts.entries()) {
    const clause = sig.slice(start, starts[k + 1] ?? sig.length);
    const cur = new Cursor(clause);
    cur.expect('WHEN');
    const notMatched = cur.accept('NOT');
    cur.expect('MATCHED');
    const then = topLevel(clause, 'THEN', cur.index);
    if (then < 0) throw syntaxError('syntax error line 1 at position 0 missing THEN.');
    const condition = cur.accept('AND') ? clause.slice(cur.index, then) : [];
    const action = clause[then + 1]?.value;
    if (notMatched) {
      if (action !== 'INSERT')
        throw syntaxError(
          `syntax error line 1 at position ${clause[then + 1]?.pos ?? 0} unexpected '${clause[then + 1]?.text ?? ''}'.`,
        );
      insert = true;
      const list = clause[then + 2];
      if (list?.text === '(') checkColumnList(new Cursor(clause.slice(then + 2)).parenGroup());
    } else if (action === 'UPDATE' || action === 'DELETE') {
      matched.push({ action, condition });
    } else {
      throw syntaxError(
        `syntax error line 1 at position ${clause[then + 1]?.pos ?? 0} unexpected '${clause[then + 1]?.text ?? ''}'.`,
      );
    }
  }
  return { matched, insert };
}

/**
 * MERGE: refuses a nondeterministic merge (100090) before running, then runs DuckDB's MERGE with RETURNING
 * merge_action to count inserts, updates and deletes.
 */
export async function merge(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const sig = significant(tokens);
  checkColumnReferences(sig);
  const cur = new Cursor(sig);
  cur.expect('MERGE');
  cur.expect('INTO');
  const targetStart = cur.index;
  const targetName = readName(cur);
  const target = await requireTable(ctx, targetName);
  let targetAlias: string | undefined;
  cur.accept('AS');
  if (!cur.isWord('USING')) targetAlias = cur.ident();
  const targetEnd = cur.index;
  cur.expect('USING');
  const sourceStart = cur.index;
  const onAt = topLevel(sig, 'ON', sourceStart);
  const whenAt = onAt < 0 ? -1 : topLevel(sig, 'WHEN', onAt);
  if (onAt < 0 || whenAt < 0)
    throw syntaxError(`syntax error line 1 at position 0 missing ${onAt < 0 ? 'ON' : 'WHEN'}.`);
  await checkReads(ctx, [
    { kind: 'word', text: 'USING', value: 'USING', pos: -1 },
    ...sig.slice(sourceStart, onAt),
  ]);
  const { matched, insert } = whenClauses(sig, whenAt);
  const hasUpdate = matched.some((c) => c.action === 'UPDATE');
  const hasDelete = matched.some((c) => c.action === 'DELETE');
  if (target.kind === 'table') {
    if (insert) await requireTablePrivilege(ctx, target.name, 'INSERT');
    if (hasUpdate) await requireTablePrivilege(ctx, target.name, 'UPDATE');
    if (hasDelete) await requireTablePrivilege(ctx, target.name, 'DELETE');
  }
  await requireWarehouse(ctx);
  // "UPDATE, DELETE, and MERGE statements hold locks".
  if (target.kind === 'table') await ctx.lockTable(target.name);

  const tr = (from: number, to: number) =>
    translateTokens(withBlanks(sig.slice(from, to)), ctx.translation());
  if (matched.length > 0) {
    // "A merge is deterministic if it meets at least one of the following conditions for each target row:
    // One or more source rows satisfy the WHEN MATCHED ... THEN DELETE clauses, and no other source rows
    // satisfy any WHEN MATCHED clauses; Exactly one source row satisfies a WHEN MATCHED ... THEN UPDATE
    // clause, and no other source rows satisfy any WHEN MATCHED clauses." A source row satisfies the first
    // clause whose condition holds for it.
    const clause = `CASE ${matched
      .map(
        (c) =>
          `WHEN ${c.condition.length > 0 ? `(${translateTokens(withBlanks(c.condition), ctx.translation())})` : 'TRUE'} THEN '${c.action}'`,
      )
      .join(' ')} END`;
    const targetRef = quoteIdent(targetAlias || (targetName.at(-1) as string));
    const joined = `SELECT ${targetRef}.rowid AS __rid, ${clause} AS __clause FROM ${tr(targetStart, targetEnd)} JOIN ${tr(sourceStart, onAt)} ON ${tr(onAt + 1, whenAt)}`;
    const nondeterministic = await ctx.read(
      `SELECT 1 FROM (${joined}) GROUP BY __rid HAVING count(__clause) > 1 AND count(*) FILTER (WHERE __clause = 'UPDATE') >= 1 LIMIT 1`,
    );
    if (nondeterministic.currentRowCount > 0) {
      // ERROR_ON_NONDETERMINISTIC_MERGE: "If TRUE (default value), the merge returns an error. If FALSE, one
      // row from among the duplicates is selected ...; the row selected is not defined."
      if (!booleanParameter('ERROR_ON_NONDETERMINISTIC_MERGE', ctx.levels)) {
        throw unsupported(
          'a nondeterministic MERGE with ERROR_ON_NONDETERMINISTIC_MERGE = FALSE: which source row wins is not defined',
        );
      }
      throw new SnowflakeSqlError(
        '100090',
        '42P18',
        'Duplicate row detected during DML action\nRow Values: [...]',
      );
    }
  }
  const statement = translateTokens(tokens, ctx.translation()).replace(/;\s*$/, '');
  const reader = await ctx.write(`${statement} RETURNING merge_action`);
  const actions = reader.getRows().map((r) => String(r[0]));
  const names: string[] = [];
  const values: number[] = [];
  if (insert) {
    names.push('number of rows inserted');
    values.push(actions.filter((a) => a === 'INSERT').length);
  }
  if (hasUpdate) {
    names.push('number of rows updated');
    values.push(actions.filter((a) => a === 'UPDATE').length);
  }
  if (hasDelete) {
    names.push('number of rows deleted');
    values.push(actions.filter((a) => a === 'DELETE').length);
  }
  return counts(names, values, STATEMENT_TYPE.MERGE);
}
