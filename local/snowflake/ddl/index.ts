// Snowflake's CREATE and DROP, handed to the family of the object they name: tables (tables.ts), warehouses
// (warehouses.ts), resource monitors (monitors.ts), other account and schema objects (objects.ts),
// roles and users (access.ts); SHOW of a schema's objects (show.ts).
import type { Ctx } from '../context';
import type { QueryResult } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import type { Cursor } from '../sql-tokens';
import { createRole, createUser, dropRole, dropUser } from './access';
import { type CreateModifiers, type Dropped, ddlDone } from './common';
import { createResourceMonitor, dropResourceMonitor } from './monitors';
import {
  createDatabase,
  createFileFormat,
  createIntegration,
  createSchema,
  createStage,
  dropDatabase,
  dropFileFormat,
  dropIntegration,
  dropSchema,
  dropStage,
} from './objects';
import { createTable, dropTable } from './tables';
import { createWarehouse, dropWarehouse } from './warehouses';

export { grantOrRevoke } from './access';
export { showResourceMonitors } from './monitors';
export { attachNewDatabase } from './objects';
export { showSchemaObjects } from './show';
export { alterTable, describeTable, showTables } from './tables';
export { alterWarehouse, showWarehouses } from './warehouses';

type Creator = (ctx: Ctx, cur: Cursor, modifiers: CreateModifiers) => Promise<QueryResult>;

/** The words naming each kind of object CREATE makes, and what makes it. */
const CREATORS: readonly (readonly [readonly string[], Creator])[] = [
  [['DATABASE'], createDatabase],
  [['SCHEMA'], createSchema],
  [['TABLE'], createTable],
  [['STAGE'], createStage],
  [['FILE', 'FORMAT'], createFileFormat],
  [['STORAGE', 'INTEGRATION'], createIntegration],
  [['ROLE'], createRole],
  [['USER'], createUser],
  [['WAREHOUSE'], createWarehouse],
  [['RESOURCE', 'MONITOR'], createResourceMonitor],
];

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
  // `accept` consumes the kind's words only when they match.
  const creator = CREATORS.find(([words]) => cur.accept(...words))?.[1];
  if (!creator) throw unsupported(`CREATE ${cur.peek()?.value ?? ''}`.trim());
  const ifNotExists = cur.accept('IF', 'NOT', 'EXISTS');
  return creator(ctx, cur, { orReplace, temporary, ifNotExists });
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
  ['RESOURCE MONITOR', dropResourceMonitor],
]);

export async function drop(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('DROP');
  const kind = cur.accept('FILE', 'FORMAT')
    ? 'FILE FORMAT'
    : cur.accept('STORAGE', 'INTEGRATION')
      ? 'INTEGRATION'
      : cur.accept('RESOURCE', 'MONITOR')
        ? 'RESOURCE MONITOR'
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
