// Snowflake's access control as each statement checks it: privileges on the object, on its database and
// schema, on the warehouse, and the account-level ones (https://docs.snowflake.com/en/user-guide/security-access-control-privileges).
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  effectiveRoles,
  futureTableGrants,
  type GrantObjectKind,
  grant,
  ownerOf,
  privilegesHeld,
  setOwner,
  warehouseExists,
} from './catalog';
import { type SessionState, SnowflakeSqlError } from './engine-types';
import { objectMissing } from './errors';

/** What a check needs: the catalog connection and the session whose role is checked. */
export interface AccessContext {
  readonly conn: DuckDBConnection;
  readonly session: SessionState;
}

/**
 * The account-level privileges the system roles hold from the start. ACCOUNTADMIN holds every privilege;
 * SYSADMIN creates warehouses and databases; SECURITYADMIN manages grants; USERADMIN creates users and roles.
 */
const SYSTEM_GLOBAL_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  SYSADMIN: ['CREATE DATABASE', 'CREATE WAREHOUSE'],
  SECURITYADMIN: ['MANAGE GRANTS'],
  USERADMIN: ['CREATE ROLE', 'CREATE USER'],
};

export async function rolesOf(ctx: AccessContext): Promise<Set<string>> {
  return effectiveRoles(ctx.conn, ctx.session.role);
}

export function isAccountAdmin(roles: ReadonlySet<string>): boolean {
  return roles.has('ACCOUNTADMIN');
}

/** 003001, as Snowflake refuses an operation the role's privileges do not cover. */
export function insufficientPrivileges(kind: string, name: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '003001',
    '42501',
    `SQL access control error:\nInsufficient privileges to operate on ${kind} '${name}'`,
  );
}

interface Held {
  /** The privilege itself (OWNERSHIP and, except for OWNERSHIP, ALL cover it). */
  readonly has: boolean;
  /** Any privilege at all, which makes the object visible. */
  readonly any: boolean;
}

async function holds(
  ctx: AccessContext,
  roles: ReadonlySet<string>,
  kind: GrantObjectKind,
  name: readonly string[],
  privilege: string,
): Promise<Held> {
  if (isAccountAdmin(roles)) return { has: true, any: true };
  const held = await privilegesHeld(ctx.conn, roles, kind, name);
  const has = held.has(privilege) || held.has('OWNERSHIP') || (privilege !== 'OWNERSHIP' && held.has('ALL'));
  return { has, any: held.size > 0 };
}

/**
 * "Operating on an object in a schema requires at least one privilege on the parent database and" USAGE
 * on the schema: what the privileges page says for databases; without them neither is visible.
 */
export async function requireContainers(ctx: AccessContext, db: string, schema?: string): Promise<void> {
  const roles = await rolesOf(ctx);
  const database = await holds(ctx, roles, 'DATABASE', [db], 'USAGE');
  if (!database.any) throw objectMissing([db], 'Database');
  if (schema === undefined) return;
  const s = await holds(ctx, roles, 'SCHEMA', [db, schema], 'USAGE');
  if (!s.any) throw objectMissing([db, schema], 'Schema');
  if (!s.has) throw insufficientPrivileges('schema', schema);
}

/**
 * A table privilege (SELECT, INSERT, ...). A role with no privilege on the table does not see it (002003,
 * as Snowflake answers); one with other privileges gets 003001.
 */
export async function requireTablePrivilege(
  ctx: AccessContext,
  table: readonly string[],
  privilege: string,
): Promise<void> {
  const [db, schema, name] = table as [string, string, string];
  await requireContainers(ctx, db, schema);
  const held = await holds(ctx, await rolesOf(ctx), 'TABLE', table, privilege);
  if (held.has) return;
  if (!held.any) throw objectMissing(table);
  throw insufficientPrivileges('table', name);
}

/** Any privilege on a table, which is what seeing its definition takes (DESCRIBE, CREATE TABLE ... LIKE). */
export async function requireTableVisible(ctx: AccessContext, table: readonly string[]): Promise<void> {
  await requireContainers(ctx, table[0] as string, table[1] as string);
  const held = await holds(ctx, await rolesOf(ctx), 'TABLE', table, 'OWNERSHIP');
  if (!held.any) throw objectMissing(table);
}

/** USAGE on a stage or file format, in its schema. */
export async function requireSchemaObjectUsage(
  ctx: AccessContext,
  kind: 'STAGE' | 'FILE_FORMAT',
  name: readonly string[],
): Promise<void> {
  await requireContainers(ctx, name[0] as string, name[1] as string);
  const held = await holds(ctx, await rolesOf(ctx), kind, name, 'USAGE');
  if (held.has) return;
  const label = kind === 'STAGE' ? 'Stage' : 'File format';
  if (!held.any) throw objectMissing(name, label);
  throw insufficientPrivileges(label.toLowerCase(), name[2] as string);
}

/**
 * USAGE on a storage integration. For a COPY from a stage that uses one, the role must hold it "unless the
 * stage-owning role has this privilege" (the stage privileges' notes).
 */
export async function requireIntegrationUsage(
  ctx: AccessContext,
  integration: string,
  stageOwner?: string,
): Promise<void> {
  const roles = await rolesOf(ctx);
  if ((await holds(ctx, roles, 'INTEGRATION', [integration], 'USAGE')).has) return;
  if (stageOwner !== undefined) {
    const ownerRoles = await effectiveRoles(ctx.conn, stageOwner);
    if ((await holds(ctx, ownerRoles, 'INTEGRATION', [integration], 'USAGE')).has) return;
  }
  throw insufficientPrivileges('integration', integration);
}

/** An account-level privilege (CREATE DATABASE, CREATE ROLE, MANAGE GRANTS, ...). */
export async function holdsGlobal(ctx: AccessContext, privilege: string): Promise<boolean> {
  const roles = await rolesOf(ctx);
  if (isAccountAdmin(roles)) return true;
  for (const role of roles) if (SYSTEM_GLOBAL_PRIVILEGES[role]?.includes(privilege)) return true;
  return (await holds(ctx, roles, 'ACCOUNT', [], privilege)).has;
}

export async function requireGlobal(ctx: AccessContext, privilege: string, account: string): Promise<void> {
  if (!(await holdsGlobal(ctx, privilege))) throw insufficientPrivileges('account', account);
}

/**
 * CREATE <kind> on the container: CREATE SCHEMA on the database, CREATE TABLE / STAGE / FILE FORMAT on the
 * schema. Checked before the name: CREATE ... IF NOT EXISTS needs the privilege even when the object is there.
 */
export async function requireCreate(
  ctx: AccessContext,
  privilege: 'CREATE SCHEMA' | 'CREATE TABLE' | 'CREATE STAGE' | 'CREATE FILE FORMAT',
  container: readonly string[],
): Promise<void> {
  const [db, schema] = container as [string, string | undefined];
  if (privilege === 'CREATE SCHEMA') {
    const roles = await rolesOf(ctx);
    const held = await holds(ctx, roles, 'DATABASE', [db], privilege);
    if (held.has) return;
    if (!held.any) throw objectMissing([db], 'Database');
    throw insufficientPrivileges('database', db);
  }
  await requireContainers(ctx, db, schema);
  const held = await holds(ctx, await rolesOf(ctx), 'SCHEMA', [db, schema as string], privilege);
  if (!held.has) throw insufficientPrivileges('schema', schema as string);
}

/** OWNERSHIP, which dropping or replacing an object takes. */
export async function requireOwnership(
  ctx: AccessContext,
  kind: GrantObjectKind,
  name: readonly string[],
  label: string,
): Promise<void> {
  const held = await holds(ctx, await rolesOf(ctx), kind, name, 'OWNERSHIP');
  if (!held.has) throw insufficientPrivileges(label, name[name.length - 1] as string);
}

/** Granting on an object takes its ownership or MANAGE GRANTS. */
export async function requireGrantOption(
  ctx: AccessContext,
  kind: GrantObjectKind,
  name: readonly string[],
  label: string,
): Promise<void> {
  if (await holdsGlobal(ctx, 'MANAGE GRANTS')) return;
  if (kind === 'ACCOUNT') throw insufficientPrivileges('account', label);
  await requireOwnership(ctx, kind, name, label);
}

/** The creating role owns what it creates; a new table also gets the schema's future grants. */
export async function recordCreated(
  ctx: AccessContext,
  kind: GrantObjectKind,
  name: readonly string[],
): Promise<void> {
  await setOwner(ctx.conn, kind, name, ctx.session.role);
  if (kind !== 'TABLE') return;
  for (const g of await futureTableGrants(ctx.conn, name.slice(0, 2))) {
    await grant(ctx.conn, g.privilege, 'TABLE', name, g.role);
  }
}

export { ownerOf };

/**
 * The warehouse a statement runs on: the session's current one, which must exist and be usable by the
 * role ("USAGE: Enables using a virtual warehouse and, as a result, executing queries on the warehouse").
 */
export async function requireWarehouse(ctx: AccessContext): Promise<void> {
  const name = ctx.session.warehouse;
  const usable =
    name !== '' &&
    (await warehouseExists(ctx.conn, name)) &&
    (await holds(ctx, await rolesOf(ctx), 'WAREHOUSE', [name], 'USAGE')).has;
  if (!usable) {
    throw new SnowflakeSqlError(
      '000606',
      '57P03',
      "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.",
    );
  }
}

/**
 * A privilege on a warehouse (MODIFY to alter it). "The granting of the global MANAGE WAREHOUSES privilege is
 * equivalent to granting the MODIFY, MONITOR, and OPERATE privileges on all warehouses in an account" (ALTER
 * WAREHOUSE). A role with no privilege on the warehouse does not see it (002003).
 */
export async function requireWarehousePrivilege(
  ctx: AccessContext,
  name: string,
  privilege: 'MODIFY' | 'MONITOR' | 'OPERATE',
): Promise<void> {
  const held = await holds(ctx, await rolesOf(ctx), 'WAREHOUSE', [name], privilege);
  if (held.has || (await holdsGlobal(ctx, 'MANAGE WAREHOUSES'))) return;
  if (!held.any) throw objectMissing([name], 'Warehouse');
  throw insufficientPrivileges('warehouse', name);
}

/** Any privilege on an account-level object (a warehouse, a resource monitor), which SHOW lists it for. */
export async function accountObjectVisible(
  ctx: AccessContext,
  kind: 'WAREHOUSE' | 'RESOURCE_MONITOR',
  name: string,
): Promise<boolean> {
  return (await holds(ctx, await rolesOf(ctx), kind, [name], 'OWNERSHIP')).any;
}

/** USAGE on a warehouse, database or schema, for USE. */
export async function canUse(
  ctx: AccessContext,
  kind: 'WAREHOUSE' | 'DATABASE' | 'SCHEMA',
  name: readonly string[],
): Promise<boolean> {
  return (await holds(ctx, await rolesOf(ctx), kind, name, 'USAGE')).has;
}
