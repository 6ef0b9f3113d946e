// Snowflake's resource monitors: CREATE [OR REPLACE] RESOURCE MONITOR [IF NOT EXISTS] <name> WITH ... TRIGGERS
// (https://docs.snowflake.com/en/sql-reference/sql/create-resource-monitor), DROP RESOURCE MONITOR
// (https://docs.snowflake.com/en/sql-reference/sql/drop-resource-monitor) and SHOW RESOURCE MONITORS
// (https://docs.snowflake.com/en/sql-reference/sql/show-resource-monitors). A monitor is a record that
// warehouses name: the stand-in meters no credits, so no trigger ever fires.
import {
  dropGrantsOn,
  getMonitor,
  type MonitorDef,
  monitorExists,
  monitorNames,
  ownerOf,
  putMonitor,
  removeMonitor,
  type TriggerAction,
  warehousesOfMonitor,
} from '../catalog';
import type { Ctx } from '../context';
import { type QueryResult, STATEMENT_TYPE } from '../engine-types';
import { unsupported } from '../errors';
import {
  accountObjectVisible,
  holdsGlobal,
  insufficientPrivileges,
  isAccountAdmin,
  recordCreated,
  requireOwnership,
  rolesOf,
} from '../privileges';
import { columnMeta, sfType } from '../sf-types';
import type { Cursor } from '../sql-tokens';
import { type CreateModifiers, claimName, ddlDone } from './common';
import { dropAccountObject } from './objects';
import {
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

const FREQUENCIES = new Set(['MONTHLY', 'DAILY', 'WEEKLY', 'YEARLY', 'NEVER']);
const ACTIONS: ReadonlySet<string> = new Set<TriggerAction>(['SUSPEND', 'SUSPEND_IMMEDIATE', 'NOTIFY']);
/** "Each resource monitor supports up to a maximum of 5 NOTIFY action triggers." */
const MAX_NOTIFY_TRIGGERS = 5;

type Trigger = MonitorDef['triggers'][number];
type Definition = { -readonly [K in keyof MonitorDef]: MonitorDef[K] };

/** CREDIT_QUOTA = <number>: credits per frequency interval. */
function creditQuotaOf(p: Property): number {
  const n = wholeNumber(p.value);
  if (n !== undefined && n >= 1) return n;
  // A fraction of a credit, or none at all: the documentation does not say whether Snowflake takes either.
  if (p.value.kind === 'number') {
    throw unsupported(`CREDIT_QUOTA = ${p.value.text} (only whole numbers of credits from 1)`);
  }
  throw invalidPropertyValue(p.name, valueText(p.value));
}

/** FREQUENCY = MONTHLY | DAILY | WEEKLY | YEARLY | NEVER. */
function frequencyOf(p: Property): string {
  const v = p.value;
  const f = v.kind === 'word' || v.kind === 'string' ? v.text.toUpperCase() : '';
  if (!FREQUENCIES.has(f)) throw invalidPropertyValue(p.name, valueText(v));
  return f;
}

/**
 * A START_TIMESTAMP or END_TIMESTAMP string: "If you specify a date without a time, the current time is used.
 * If you set a time without specifying a time zone, UTC is used as the default time zone." Forms with a zone,
 * or other than a date and a time of day, are refused: the documentation does not list them.
 */
function timestampOf(p: Property, now: Date): Date {
  if (p.value.kind !== 'string') throw invalidPropertyValue(p.name, valueText(p.value));
  const text = p.value.text;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!m)
    throw unsupported(`${p.name} = '${text}' (only 'YYYY-MM-DD' and 'YYYY-MM-DD HH24:MI[:SS]', in UTC)`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const time = m[4]
    ? [Number(m[4]), Number(m[5]), Number(m[6] ?? 0), 0]
    : [now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds()];
  const [h, mi, s, ms] = time as [number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, h, mi, s, ms));
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    h < 24 &&
    mi < 60 &&
    s < 60;
  if (!valid) throw invalidPropertyValue(p.name, text);
  return date;
}

/** START_TIMESTAMP = { <timestamp> | IMMEDIATELY }: "If you specify IMMEDIATELY ... the current timestamp is used." */
function startOf(p: Property, now: Date): Date {
  if (p.value.kind === 'word' && p.value.token.kind === 'word' && p.value.text === 'IMMEDIATELY') return now;
  const start = timestampOf(p, now);
  // The documentation does not say what a start in the past does; a second's grace covers a date of today.
  if (start.getTime() < now.getTime() - 1000) {
    throw unsupported(`START_TIMESTAMP = '${valueText(p.value)}' (a start in the past)`);
  }
  return start;
}

/**
 * NOTIFY_USERS = ( <user_name> [ , ... ] ): "Each user listed must have a verified email address", and
 * the stand-in keeps no email addresses, so a list is refused once it is read.
 */
function refuseNotifyUsers(p: Property): never {
  const v = p.value;
  const names =
    v.kind === 'list' && v.items.length > 0 && v.items.every((t) => t.kind === 'word' || t.kind === 'qident');
  if (!names) throw invalidPropertyValue(p.name, valueText(v));
  throw unsupported(
    'NOTIFY_USERS (each user listed must have a verified email address; the stand-in has none)',
  );
}

function applyProperty(p: Property, def: Definition, now: Date): void {
  if (p.name === 'CREDIT_QUOTA') def.creditQuota = creditQuotaOf(p);
  else if (p.name === 'FREQUENCY') def.frequency = frequencyOf(p);
  else if (p.name === 'START_TIMESTAMP') def.startTimestamp = startOf(p, now).toISOString();
  else if (p.name === 'END_TIMESTAMP') def.endTimestamp = timestampOf(p, now).toISOString();
  else if (p.name === 'NOTIFY_USERS') refuseNotifyUsers(p);
  else throw unknownProperty(p);
}

/** The rules between the properties that the documentation states, and an end before the start. */
function checkSchedule(def: Definition, now: Date): void {
  if (def.frequency !== null && def.startTimestamp === null) {
    throw invalidProperties(
      'If you set a frequency for a resource monitor, you must also set START_TIMESTAMP.',
    );
  }
  if (def.startTimestamp !== null && def.frequency === null) {
    throw invalidProperties('If you set a timestamp for a resource monitor, you must also set FREQUENCY.');
  }
  const start = def.startTimestamp ?? now.toISOString();
  if (def.endTimestamp !== null && def.endTimestamp <= start) {
    throw unsupported(`END_TIMESTAMP = '${def.endTimestamp}' (not after the monitor starts)`);
  }
}

/** One `ON <threshold> PERCENT DO { SUSPEND | SUSPEND_IMMEDIATE | NOTIFY }`. */
function readTrigger(cur: Cursor): Trigger {
  cur.expect('ON');
  const threshold = cur.next();
  if (threshold.kind !== 'number') {
    cur.index--;
    throw cur.unexpected();
  }
  // "A numeric value specified as a percentage of the credit quota ...; values larger than 100 are supported."
  if (!/^\d+$/.test(threshold.value) || Number(threshold.value) < 1) {
    throw unsupported(`ON ${threshold.value} PERCENT (only whole percentages from 1)`);
  }
  cur.expect('PERCENT', 'DO');
  const action = cur.next();
  if (action.kind !== 'word' || !ACTIONS.has(action.value)) {
    cur.index--;
    throw cur.unexpected();
  }
  return { threshold: Number(threshold.value), action: action.value as TriggerAction };
}

function checkTriggers(triggers: readonly Trigger[]): void {
  const count = (a: TriggerAction) => triggers.filter((t) => t.action === a).length;
  if (count('NOTIFY') > MAX_NOTIFY_TRIGGERS) {
    throw invalidProperties(
      `Each resource monitor supports up to a maximum of ${MAX_NOTIFY_TRIGGERS} NOTIFY action triggers.`,
    );
  }
  // The documentation does not say what two suspending triggers of one kind would do.
  for (const a of ['SUSPEND', 'SUSPEND_IMMEDIATE'] as const) {
    if (count(a) > 1) throw unsupported(`more than one ${a} trigger on a resource monitor`);
  }
}

/** `WITH [ properties ] [ TRIGGERS triggerDefinition [ ... ] ]` after the monitor's name. */
function readDefinition(cur: Cursor, now: Date): MonitorDef {
  cur.expect('WITH');
  const def: Definition = {
    creditQuota: null,
    frequency: null,
    startTimestamp: null,
    endTimestamp: null,
    triggers: [],
  };
  const seen = new Set<string>();
  for (const p of readProperties(cur, { stopAt: ['TRIGGERS'] })) {
    if (seen.has(p.name)) throw unsupported(`the resource monitor property ${p.name} given twice`);
    seen.add(p.name);
    applyProperty(p, def, now);
  }
  if (cur.accept('TRIGGERS')) {
    const triggers = [readTrigger(cur)];
    while (cur.isWord('ON')) triggers.push(readTrigger(cur));
    checkTriggers(triggers);
    def.triggers = triggers;
  }
  if (!cur.done()) throw cur.unexpected();
  checkSchedule(def, now);
  return def;
}

export async function createResourceMonitor(
  ctx: Ctx,
  cur: Cursor,
  modifiers: CreateModifiers,
): Promise<QueryResult> {
  requireExclusiveModifiers(modifiers);
  const name = cur.ident();
  const def = readDefinition(cur, new Date());
  // "This command can only be executed by account administrators."
  if (!isAccountAdmin(await rolesOf(ctx))) throw insufficientPrivileges('account', 'the account');
  const taken = await monitorExists(ctx.conn, name);
  if (taken && modifiers.orReplace) {
    await requireOwnership(ctx, 'RESOURCE_MONITOR', [name], 'resource monitor');
    const assigned = await warehousesOfMonitor(ctx.conn, name);
    if (assigned.length > 0) {
      throw unsupported(
        `CREATE OR REPLACE RESOURCE MONITOR ${name} while it is assigned to ${assigned.join(', ')} (the documentation does not say whether they keep it)`,
      );
    }
  }
  const existing = await claimName(name, taken, modifiers);
  if (existing) return existing;
  await putMonitor(ctx.conn, name, def);
  await dropGrantsOn(ctx.conn, 'RESOURCE_MONITOR', [name]);
  await recordCreated(ctx, 'RESOURCE_MONITOR', [name]);
  return ddlDone(`Resource monitor ${name} successfully created.`);
}

/**
 * DROP RESOURCE MONITOR [ IF EXISTS ] <name>, by its owner. "Dropping a resource monitor immediately enables
 * resuming any assigned warehouses": they have no monitor from then on.
 */
export const dropResourceMonitor = dropAccountObject(
  'RESOURCE_MONITOR',
  'resource monitor',
  monitorExists,
  removeMonitor,
);

/**
 * SHOW RESOURCE MONITORS [ LIKE '<pattern>' ]: "The command only returns objects for which the current user's
 * current role has been granted at least one access privilege", and "The MANAGE GRANTS access privilege
 * implicitly allows its holder to see every object in the account." The level is WAREHOUSE for a monitor
 * assigned to a warehouse and NULL for one "not assigned to the account or any warehouses". Only the columns
 * the stand-in knows the value of are answered: no quota or usage figures, no trigger columns.
 */
export async function showResourceMonitors(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('SHOW', 'RESOURCE', 'MONITORS');
  const like = readLike(cur);
  if (!cur.done()) throw cur.unexpected();
  const all = await holdsGlobal(ctx, 'MANAGE GRANTS');
  const rows: (string | null)[][] = [];
  for (const name of await monitorNames(ctx.conn)) {
    if (like && !like.test(name)) continue;
    if (!all && !(await accountObjectVisible(ctx, 'RESOURCE_MONITOR', name))) continue;
    const def = await getMonitor(ctx.conn, name);
    const assigned = await warehousesOfMonitor(ctx.conn, name);
    rows.push([
      name,
      def?.frequency ?? null,
      assigned.length > 0 ? 'WAREHOUSE' : null,
      (await ownerOf(ctx.conn, 'RESOURCE_MONITOR', [name])) ?? null,
    ]);
  }
  const text = sfType('VARCHAR');
  return {
    columns: ['name', 'frequency', 'level', 'owner'].map((n) => columnMeta(n, text)),
    rows,
    statementTypeId: STATEMENT_TYPE.SELECT,
  };
}
