// Snowflake's virtual warehouses: CREATE [OR REPLACE] WAREHOUSE [IF NOT EXISTS] with its properties
// (https://docs.snowflake.com/en/sql-reference/sql/create-warehouse), ALTER WAREHOUSE ... SET / UNSET
// (https://docs.snowflake.com/en/sql-reference/sql/alter-warehouse), DROP WAREHOUSE and SHOW WAREHOUSES
// (https://docs.snowflake.com/en/sql-reference/sql/show-warehouses). A warehouse is a record here: every
// statement runs on the one embedded DuckDB, so its size, suspension and resource monitor change nothing but
// what SHOW WAREHOUSES answers. The properties that would change how statements run are refused by name.
import {
  dropGrantsOn,
  getWarehouse,
  monitorExists,
  ownerOf,
  putWarehouse,
  removeWarehouse,
  WAREHOUSE_DEFAULTS,
  type WarehouseDef,
  warehouseExists,
  warehouseNames,
} from '../catalog';
import type { Ctx } from '../context';
import { type QueryResult, STATEMENT_TYPE } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import {
  accountObjectVisible,
  holdsGlobal,
  insufficientPrivileges,
  isAccountAdmin,
  recordCreated,
  requireGlobal,
  requireOwnership,
  requireWarehousePrivilege,
  rolesOf,
} from '../privileges';
import { columnMeta, sfType } from '../sf-types';
import type { Cursor, Token } from '../sql-tokens';
import { statementExecuted } from '../status';
import { type CreateModifiers, claimName, ddlDone } from './common';
import { dropAccountObject } from './objects';
import {
  booleanWord,
  invalidProperties,
  invalidPropertyValue,
  type Property,
  readProperties,
  requireExclusiveModifiers,
  unknownProperty,
  valueText,
  wholeNumber,
} from './properties';
import { readLike } from './show';

/**
 * Each WAREHOUSE_SIZE value and synonym the documentation lists, with the size it names. "To use a value that
 * contains a hyphen (for example, '2X-LARGE'), you must enclose the value in single quotes."
 */
const SIZE_SPELLINGS: Readonly<Record<string, string>> = {
  XSMALL: 'XSMALL',
  'X-SMALL': 'XSMALL',
  SMALL: 'SMALL',
  MEDIUM: 'MEDIUM',
  LARGE: 'LARGE',
  XLARGE: 'XLARGE',
  'X-LARGE': 'XLARGE',
  XXLARGE: 'XXLARGE',
  X2LARGE: 'XXLARGE',
  '2X-LARGE': 'XXLARGE',
  XXXLARGE: 'XXXLARGE',
  X3LARGE: 'XXXLARGE',
  '3X-LARGE': 'XXXLARGE',
  X4LARGE: 'X4LARGE',
  '4X-LARGE': 'X4LARGE',
  X5LARGE: 'X5LARGE',
  '5X-LARGE': 'X5LARGE',
  X6LARGE: 'X6LARGE',
  '6X-LARGE': 'X6LARGE',
};

/** SHOW WAREHOUSES' size column: "Size of the warehouse (X-Small, Small, Medium, Large, X-Large, etc.)". */
const SIZE_LABELS: Readonly<Record<string, string>> = {
  XSMALL: 'X-Small',
  SMALL: 'Small',
  MEDIUM: 'Medium',
  LARGE: 'Large',
  XLARGE: 'X-Large',
  XXLARGE: '2X-Large',
  XXXLARGE: '3X-Large',
  X4LARGE: '4X-Large',
  X5LARGE: '5X-Large',
  X6LARGE: '6X-Large',
};

/**
 * The documented properties and parameters the stand-in does not model: clusters, generations, query
 * acceleration and the statement limits of a warehouse would change how statements run, which here they
 * cannot, so they are refused rather than kept and ignored.
 */
const UNMODELLED = new Set([
  'GENERATION',
  'RESOURCE_CONSTRAINT',
  'MAX_CLUSTER_COUNT',
  'MIN_CLUSTER_COUNT',
  'SCALING_POLICY',
  'ENABLE_QUERY_ACCELERATION',
  'QUERY_ACCELERATION_MAX_SCALE_FACTOR',
  'MAX_CONCURRENCY_LEVEL',
  'STATEMENT_QUEUED_TIMEOUT_IN_SECONDS',
  'STATEMENT_TIMEOUT_IN_SECONDS',
]);

const ACCOUNT = 'the account';

type Changes = { -readonly [K in keyof WarehouseDef]?: WarehouseDef[K] };
type Statement = 'CREATE' | 'ALTER';

function sizeOf(p: Property): string {
  const v = p.value;
  const spelling =
    v.kind === 'string' ? v.text.toUpperCase() : v.kind === 'word' && v.token.kind === 'word' ? v.text : '';
  const size = SIZE_SPELLINGS[spelling];
  if (size === undefined) throw invalidPropertyValue(p.name, valueText(v));
  return size;
}

/** AUTO_SUSPEND: "Any integer 0 or greater, or NULL". */
function autoSuspendOf(p: Property): number | null {
  if (p.value.kind === 'word' && p.value.token.kind === 'word' && p.value.text === 'NULL') return null;
  const n = wholeNumber(p.value);
  if (n === undefined) throw invalidPropertyValue(p.name, valueText(p.value));
  return n;
}

/** AUTO_RESUME and INITIALLY_SUSPENDED: `{ TRUE | FALSE }`. */
function booleanOf(p: Property): boolean {
  const b = booleanWord(p.value);
  if (b === undefined) throw invalidPropertyValue(p.name, valueText(p.value));
  return b;
}

function monitorOf(p: Property): string {
  const v = p.value;
  if (v.kind !== 'word') throw invalidPropertyValue(p.name, valueText(v));
  if (v.token.kind === 'word' && v.text === 'NULL') {
    throw unsupported('RESOURCE_MONITOR = NULL (the documented way to remove one is UNSET RESOURCE_MONITOR)');
  }
  return v.text;
}

/** COMMENT = '<string_literal>'. */
function commentOf(p: Property): string {
  if (p.value.kind !== 'string') throw invalidPropertyValue(p.name, valueText(p.value));
  return p.value.text;
}

/** WAREHOUSE_TYPE: STANDARD (or 'STANDARD'), the default, is the only type modelled. */
function checkType(p: Property): void {
  const v = p.value;
  if ((v.kind === 'word' || v.kind === 'string') && v.text.toUpperCase() === 'STANDARD') return;
  throw unsupported(`WAREHOUSE_TYPE = ${valueText(v)} (only STANDARD warehouses are modelled)`);
}

/** Refuses a documented property the stand-in does not model; anything else is not a property at all. */
function refuseProperty(p: Property, statement: Statement): never {
  // WAIT_FOR_COMPLETION is ALTER's only; INITIALLY_SUSPENDED is "Not applicable when altering a warehouse",
  // so ALTER refuses it as a word it does not take.
  const documented = UNMODELLED.has(p.name) || (statement === 'ALTER' && p.name === 'WAIT_FOR_COMPLETION');
  if (documented) throw unsupported(`the warehouse property ${p.name}`);
  throw unknownProperty(p);
}

function applyProperty(p: Property, changes: Changes, statement: Statement): void {
  if (p.name === 'WAREHOUSE_SIZE') changes.size = sizeOf(p);
  else if (p.name === 'AUTO_SUSPEND') changes.autoSuspend = autoSuspendOf(p);
  else if (p.name === 'AUTO_RESUME') changes.autoResume = booleanOf(p);
  else if (p.name === 'INITIALLY_SUSPENDED' && statement === 'CREATE')
    changes.initiallySuspended = booleanOf(p);
  else if (p.name === 'RESOURCE_MONITOR') changes.resourceMonitor = monitorOf(p);
  else if (p.name === 'COMMENT') changes.comment = commentOf(p);
  else if (p.name === 'WAREHOUSE_TYPE') checkType(p);
  else refuseProperty(p, statement);
}

function changesOf(properties: readonly Property[], statement: Statement): Changes {
  const changes: Changes = {};
  const seen = new Set<string>();
  for (const p of properties) {
    // The documentation does not say which of two values for one property wins.
    if (seen.has(p.name)) throw unsupported(`the warehouse property ${p.name} given twice`);
    seen.add(p.name);
    applyProperty(p, changes, statement);
  }
  return changes;
}

/** `[ [ WITH ] objectProperties ] [ [ WITH ] TAG ( ... ) ] [ objectParams ]` after CREATE WAREHOUSE's name. */
function readCreateProperties(cur: Cursor): Changes {
  cur.accept('WITH');
  const properties = readProperties(cur, { stopAt: ['WITH', 'TAG'] });
  if (cur.accept('WITH') || cur.isWord('TAG')) {
    if (cur.isWord('TAG')) throw unsupported('warehouse tags (TAG)');
    throw cur.unexpected();
  }
  if (!cur.done()) throw cur.unexpected();
  return changesOf(properties, 'CREATE');
}

/**
 * Assigning a resource monitor: "Only the ACCOUNTADMIN role can assign warehouses to resource monitors"
 * (ALTER WAREHOUSE's access control), and the monitor must be "Any existing resource monitor".
 */
async function requireMonitorAssignment(ctx: Ctx, monitor: string | null, label: string): Promise<void> {
  if (!isAccountAdmin(await rolesOf(ctx))) throw insufficientPrivileges('resource monitor', label);
  if (monitor !== null && !(await monitorExists(ctx.conn, monitor))) {
    throw objectMissing([monitor], 'Resource monitor');
  }
}

export async function createWarehouse(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  requireExclusiveModifiers(modifiers);
  const name = cur.ident();
  const changes = readCreateProperties(cur);
  // "CREATE WAREHOUSE | Account | Only the SYSADMIN role, or a higher role, has this privilege by default."
  await requireGlobal(ctx, 'CREATE WAREHOUSE', ACCOUNT);
  if (changes.resourceMonitor !== undefined) {
    await requireMonitorAssignment(ctx, changes.resourceMonitor, changes.resourceMonitor ?? '');
  }
  const taken = await warehouseExists(ctx.conn, name);
  if (taken && modifiers.orReplace) await requireOwnership(ctx, 'WAREHOUSE', [name], 'warehouse');
  // "Using OR REPLACE is the equivalent of using DROP WAREHOUSE on the existing warehouse and then creating a
  // new warehouse with the same name": the new one starts from the defaults and without the old one's grants.
  const existing = await claimName(name, taken, modifiers);
  if (existing) return existing;
  await putWarehouse(ctx.conn, name, { ...WAREHOUSE_DEFAULTS, ...changes });
  await dropGrantsOn(ctx.conn, 'WAREHOUSE', [name]);
  await recordCreated(ctx, 'WAREHOUSE', [name]);
  // "Creating a virtual warehouse automatically sets it as the warehouse in use for the current session."
  ctx.session.warehouse = name;
  return ddlDone(`Warehouse ${name} successfully created.`);
}

/**
 * UNSET's names: "UNSET can be used to unset all the properties and parameters for a warehouse, except
 * WAREHOUSE_SIZE, which can only be changed using SET"; unsetting resets a property to its default.
 */
function unsetChanges(names: readonly Token[]): Changes {
  const changes: Changes = {};
  for (const t of names) {
    const p: Property = { name: t.value, token: t, value: { kind: 'word', text: '', token: t } };
    if (t.kind !== 'word') throw unknownProperty(p);
    if (t.value === 'AUTO_SUSPEND') changes.autoSuspend = WAREHOUSE_DEFAULTS.autoSuspend;
    else if (t.value === 'AUTO_RESUME') changes.autoResume = WAREHOUSE_DEFAULTS.autoResume;
    else if (t.value === 'RESOURCE_MONITOR') changes.resourceMonitor = null;
    else if (t.value === 'COMMENT') changes.comment = null;
    else if (t.value === 'WAREHOUSE_TYPE') continue;
    else if (t.value === 'WAREHOUSE_SIZE') {
      throw invalidProperties('WAREHOUSE_SIZE can only be changed using SET, not unset.');
    } else refuseProperty(p, 'ALTER');
  }
  return changes;
}

/** The comma-separated names after UNSET. */
function readNames(cur: Cursor): Token[] {
  const names = [cur.next()];
  while (cur.acceptOp(',')) names.push(cur.next());
  if (!cur.done()) throw cur.unexpected();
  return names;
}

/** What ALTER WAREHOUSE <name> does after the name: SET or UNSET of properties; other forms are refused. */
function readAlteration(cur: Cursor): Changes {
  if (cur.accept('SET')) {
    const properties = readProperties(cur, { stopAt: ['TAG'], commas: true });
    if (cur.isWord('TAG')) throw unsupported('warehouse tags (SET TAG)');
    if (properties.length === 0) throw cur.unexpected();
    return changesOf(properties, 'ALTER');
  }
  if (cur.accept('UNSET')) {
    if (cur.isWord('TAG')) throw unsupported('warehouse tags (UNSET TAG)');
    return unsetChanges(readNames(cur));
  }
  if (cur.done()) throw cur.unexpected();
  // SUSPEND, RESUME, ABORT ALL QUERIES, RENAME TO, ENABLE / DISABLE, ADD / DROP TABLES.
  throw unsupported(`ALTER WAREHOUSE ... ${cur.peek()?.value}`);
}

export async function alterWarehouse(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('ALTER', 'WAREHOUSE');
  const ifExists = cur.accept('IF', 'EXISTS');
  if (cur.isWord('SUSPEND', 'RESUME', 'ABORT')) throw unsupported(`ALTER WAREHOUSE ${cur.peek()?.value}`);
  const name = cur.ident();
  const changes = readAlteration(cur);
  const current = await getWarehouse(ctx.conn, name);
  if (!current) {
    if (ifExists) return statementExecuted(STATEMENT_TYPE.DDL);
    throw objectMissing([name], 'Warehouse');
  }
  // "MODIFY | Warehouse | Enables altering any properties of a warehouse, including changing its size."
  await requireWarehousePrivilege(ctx, name, 'MODIFY');
  if (changes.resourceMonitor !== undefined) {
    await requireMonitorAssignment(
      ctx,
      changes.resourceMonitor,
      changes.resourceMonitor ?? current.resourceMonitor ?? name,
    );
  }
  await putWarehouse(ctx.conn, name, { ...current, ...changes });
  return statementExecuted(STATEMENT_TYPE.DDL);
}

export const dropWarehouse = dropAccountObject('WAREHOUSE', 'warehouse', warehouseExists, removeWarehouse);

const SHOWN = [
  'name',
  'type',
  'size',
  'is_current',
  'auto_suspend',
  'auto_resume',
  'owner',
  'comment',
  'resource_monitor',
] as const;

async function shownRow(ctx: Ctx, name: string): Promise<(string | null)[]> {
  const def = (await getWarehouse(ctx.conn, name)) ?? WAREHOUSE_DEFAULTS;
  return [
    name,
    'STANDARD',
    SIZE_LABELS[def.size] ?? def.size,
    // "Columns that start with the prefix is_ return either Y (yes) or N (no)."
    ctx.session.warehouse === name ? 'Y' : 'N',
    // "a null value indicates the warehouse never automatically suspends"
    def.autoSuspend === null ? null : String(def.autoSuspend),
    String(def.autoResume),
    (await ownerOf(ctx.conn, 'WAREHOUSE', [name])) ?? null,
    def.comment ?? '',
    def.resourceMonitor,
  ];
}

/**
 * SHOW WAREHOUSES [ LIKE '<pattern>' ]: "Lists all the virtual warehouses in your account for which you have
 * access privileges." Only the columns the stand-in knows the value of are answered: no state, clusters,
 * running or queued counts, timestamps or query acceleration.
 */
export async function showWarehouses(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('SHOW', 'WAREHOUSES');
  const like = readLike(cur);
  if (cur.isWord('WITH')) throw unsupported('SHOW WAREHOUSES ... WITH PRIVILEGES');
  if (!cur.done()) throw cur.unexpected();
  const all = isAccountAdmin(await rolesOf(ctx)) || (await holdsGlobal(ctx, 'MANAGE WAREHOUSES'));
  const rows: (string | null)[][] = [];
  for (const name of await warehouseNames(ctx.conn)) {
    if (like && !like.test(name)) continue;
    if (!all && !(await accountObjectVisible(ctx, 'WAREHOUSE', name))) continue;
    rows.push(await shownRow(ctx, name));
  }
  const text = sfType('VARCHAR');
  return { columns: SHOWN.map((n) => columnMeta(n, text)), rows, statementTypeId: STATEMENT_TYPE.SELECT };
}
