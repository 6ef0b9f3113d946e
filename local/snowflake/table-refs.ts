// The tables a statement reads or writes, found in its tokens, and what each takes: the name resolved (a
// temporary table first), reserved words refused as names, and the privilege checked on it.
import { type Ctx, requireTable, type TableLocation } from './context';
import { requireTablePrivilege } from './privileges';
import { checkName } from './reserved';
import { identName, type Token } from './sql-tokens';

const SOURCE_KEYWORDS = new Set(['FROM', 'JOIN', 'USING']);
const NOT_TABLES = new Set(['LATERAL', 'UNNEST', 'VALUES', 'TABLE', 'SELECT', 'WITH']);
const CLAUSE_ENDS = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'QUALIFY',
  'UNION',
  'ON',
  'SET',
  'WHEN',
  'EXCEPT',
  'MINUS',
  'INTERSECT',
]);

/** Names of tables a statement reads, found after FROM / JOIN / USING and in FROM lists (CTEs excluded). */
export function tableRefs(sig: readonly Token[]): string[][] {
  const ctes = new Set<string>();
  for (let i = 0; i + 2 < sig.length; i++) {
    const t = sig[i] as Token;
    const name = identName(t);
    const prev = sig[i - 1];
    if (
      name &&
      sig[i + 1]?.value === 'AS' &&
      sig[i + 2]?.text === '(' &&
      (prev?.value === 'WITH' || prev?.text === ',' || prev?.value === 'RECURSIVE')
    ) {
      ctes.add(name);
    }
  }
  const refs: string[][] = [];
  const inFrom: boolean[] = [false];
  let depth = 0;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Token;
    if (t.text === '(') {
      depth++;
      inFrom[depth] = false;
      continue;
    }
    if (t.text === ')') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (t.kind === 'word' && t.value === 'FROM') inFrom[depth] = true;
    else if (t.kind === 'word' && CLAUSE_ENDS.has(t.value)) inFrom[depth] = false;
    const prev = sig[i - 1];
    const trigger =
      (prev?.kind === 'word' && SOURCE_KEYWORDS.has(prev.value)) ||
      (prev?.text === ',' && inFrom[depth] === true);
    if (
      !trigger ||
      !identName(t) ||
      (t.kind === 'word' && (NOT_TABLES.has(t.value) || CLAUSE_ENDS.has(t.value)))
    ) {
      continue;
    }
    const parts: string[] = [identName(t) as string];
    let j = i + 1;
    while (sig[j]?.text === '.' && sig[j + 1] && identName(sig[j + 1] as Token)) {
      parts.push(identName(sig[j + 1] as Token) as string);
      j += 2;
    }
    if (sig[j]?.text !== '(') for (let k = i; k < j; k += 2) checkName(sig[k], 'table');
    if (sig[j]?.text === '(') continue;
    if (parts.length === 1 && ctes.has(parts[0] as string)) continue;
    refs.push(parts);
  }
  return refs;
}

/** Resolves every read table (002003 if missing) and checks SELECT on it. */
export async function checkReads(ctx: Ctx, sig: readonly Token[]): Promise<TableLocation[]> {
  const found: TableLocation[] = [];
  for (const ref of tableRefs(sig)) {
    if (ref.length >= 2 && ref[ref.length - 2] === 'INFORMATION_SCHEMA') continue;
    const location = await requireTable(ctx, ref);
    if (location.kind === 'table') await requireTablePrivilege(ctx, location.name, 'SELECT');
    found.push(location);
  }
  return found;
}

/** The table a DML statement writes, resolved and checked for the privilege its clause takes. */
export async function checkTarget(
  ctx: Ctx,
  parts: readonly string[],
  privilege: string,
): Promise<TableLocation> {
  const location = await requireTable(ctx, parts);
  if (location.kind === 'table') await requireTablePrivilege(ctx, location.name, privilege);
  return location;
}
