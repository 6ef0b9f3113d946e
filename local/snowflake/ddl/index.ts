// Snowflake's CREATE and DROP, handed to the family of the object they name: tables (tables.ts), other
// account and schema objects (objects.ts), roles and users (access.ts).
import type { Ctx } from '../context';
import type { QueryResult } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import type { Cursor } from '../sql-tokens';
import { createRole, createUser, dropRole, dropUser } from './access';
import { type Dropped, ddlDone } from './common';
import {
  createDatabase,
  createFileFormat,
  createIntegration,
  createSchema,
  createStage,
  createWarehouse,
  dropDatabase,
  dropFileFormat,
  dropIntegration,
  dropSchema,
  dropStage,
  dropWarehouse,
} from './objects';
import { createTable, dropTable } from './tables';

export { grantOrRevoke } from './access';
export { attachNewDatabase } from './objects';
export { describeTable, showTables } from './tables';

export async function create(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('CREATE');
  const orReplace = cur.accept('OR', 'REPLACE');
  let temporary = false;
  for (;;) {
    if (cur.accept('LOCAL') || cur.accept('GLOBAL') || cur.accept('TRANSIENT')) continue;
    if (cur.accept('TEMPORARY') || cur.accept('TEMP') || cur.accept('VOLATILE')) {
      temporary = true;
      continue;
    }
    break;
  }
  const modifiers = { orReplace, temporary };
  if (cur.accept('DATABASE')) return createDatabase(ctx, cur, modifiers);
  if (cur.accept('SCHEMA')) return createSchema(ctx, cur, modifiers);
  if (cur.accept('TABLE')) return createTable(ctx, cur, modifiers);
  if (cur.accept('STAGE')) return createStage(ctx, cur, modifiers);
  if (cur.accept('FILE', 'FORMAT')) return createFileFormat(ctx, cur, modifiers);
  if (cur.accept('STORAGE', 'INTEGRATION')) return createIntegration(ctx, cur, modifiers);
  if (cur.accept('ROLE')) return createRole(ctx, cur, modifiers);
  if (cur.accept('USER')) return createUser(ctx, cur, modifiers);
  if (cur.accept('WAREHOUSE')) return createWarehouse(cur);
  throw unsupported(`CREATE ${cur.peek()?.value ?? ''}`.trim());
}

/** Drops the named object, or says what was missing. */
type Dropper = (ctx: Ctx, parts: readonly string[]) => Promise<Dropped>;

const DROPPERS: ReadonlyMap<string, Dropper> = new Map([
  ['TABLE', dropTable],
  ['SCHEMA', dropSchema],
  ['DATABASE', dropDatabase],
  ['STAGE', dropStage],
  ['FILE FORMAT', dropFileFormat],
  ['ROLE', dropRole],
  ['USER', dropUser],
  ['WAREHOUSE', dropWarehouse],
  ['INTEGRATION', dropIntegration],
]);

export async function drop(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('DROP');
  const kind = cur.accept('FILE', 'FORMAT')
    ? 'FILE FORMAT'
    : cur.accept('STORAGE', 'INTEGRATION')
      ? 'INTEGRATION'
      : cur.next().value;
  const ifExists = cur.accept('IF', 'EXISTS');
  const parts = cur.name();
  cur.accept('CASCADE');
  cur.accept('RESTRICT');
  if (!cur.done()) throw cur.unexpected();
  const dropper = DROPPERS.get(kind);
  if (!dropper) throw unsupported(`DROP ${kind}`);
  const dropped = await dropper(ctx, parts);
  if (typeof dropped === 'string') return ddlDone(`${dropped} successfully dropped.`);
  if (ifExists) {
    return ddlDone(`Drop statement executed successfully (${parts[parts.length - 1]} already dropped).`);
  }
  throw objectMissing(dropped.name, dropped.kind);
}
