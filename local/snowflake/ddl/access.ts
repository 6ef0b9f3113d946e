// Snowflake's roles, users (as catalog records; auth.ts keeps their logins) and GRANT / REVOKE of privileges and
// roles: who may grant (the owner, or MANAGE GRANTS), on which kinds of object, and OWNERSHIP transfers with
// their outbound privileges copied, revoked or in the way
// (https://docs.snowflake.com/en/sql-reference/sql/grant-ownership).
import {
  databaseExists,
  dropGrantsOn,
  dropRole as forgetRole,
  dropUser as forgetUser,
  type GrantObjectKind,
  grant,
  grantRole,
  grantsOn,
  integrationExists,
  monitorExists,
  namedExists,
  createRole as recordRole,
  createUser as recordUser,
  revoke,
  revokeRole,
  roleExists,
  schemaExists,
  setOwner,
  tablesIn,
  userExists,
  warehouseExists,
} from '../catalog';
import { type Ctx, qualify, requireTable } from '../context';
import type { QueryResult } from '../engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from '../engine-types';
import { objectMissing, unexpectedToken, unsupported } from '../errors';
import {
  holdsGlobal,
  insufficientPrivileges,
  recordCreated,
  requireGlobal,
  requireGrantOption,
  rolesOf,
} from '../privileges';
import type { Cursor } from '../sql-tokens';
import { statementExecuted } from '../status';
import { type CreateModifiers, claimName, type Dropped, ddlDone } from './common';

/** CREATE ROLE and CREATE USER: a name in a catalog table, created by a role with the account privilege. */
function createNamed(
  kind: 'Role' | 'User',
  exists: (c: Ctx['conn'], n: string) => Promise<boolean>,
  make: (c: Ctx['conn'], n: string) => Promise<void>,
) {
  return async (ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> => {
    const name = cur.ident();
    cur.rest();
    await requireGlobal(ctx, `CREATE ${kind.toUpperCase()}`, 'the account');
    const existing = await claimName(name, await exists(ctx.conn, name), modifiers);
    if (existing) return existing;
    await make(ctx.conn, name);
    if (kind === 'Role') await recordCreated(ctx, 'ROLE', [name]);
    return ddlDone(`${kind} ${name} successfully created.`);
  };
}

export const createRole = createNamed('Role', roleExists, recordRole);
export const createUser = createNamed('User', userExists, recordUser);

export async function dropRole(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const role = parts[parts.length - 1] as string;
  if (!(await roleExists(ctx.conn, role))) return { name: [role], kind: 'Role' };
  await requireGrantOption(ctx, 'ROLE', [role], 'role');
  await forgetRole(ctx.conn, role);
  await dropGrantsOn(ctx.conn, 'ROLE', [role]);
  return role;
}

export async function dropUser(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const user = parts[parts.length - 1] as string;
  await forgetUser(ctx.conn, user);
  return user;
}

/** `[db, schema]` of a schema a grant names, the database from the session when the name has one part. */
function grantedSchema(ctx: Ctx, parts: readonly string[]): string[] {
  return parts.length === 2
    ? [...parts]
    : [qualify(ctx.session, parts, 'GRANT')[0] as string, parts[0] as string];
}

/** What a GRANT names: the object's kind and name, and the existing objects the privilege lands on. */
interface GrantTarget {
  readonly kind: GrantObjectKind;
  readonly name: string[];
  /** The objects granted on: one, or each table of ALL TABLES IN SCHEMA. */
  readonly each: string[][];
  readonly label: string;
}

async function grantTarget(ctx: Ctx, cur: Cursor, toWord: string): Promise<GrantTarget> {
  const one = (kind: GrantObjectKind, name: string[], label: string): GrantTarget => ({
    kind,
    name,
    each: [name],
    label,
  });
  if (cur.accept('ALL', 'TABLES', 'IN', 'SCHEMA')) {
    // "ALL TABLES IN SCHEMA" grants on each table there now; FUTURE TABLES on each created later.
    const schema = grantedSchema(ctx, cur.name());
    const tables = (await tablesIn(ctx.conn, schema[0] as string, schema[1] as string)).map((t) => [
      ...schema,
      t,
    ]);
    return { kind: 'TABLE', name: schema, each: tables, label: 'schema' };
  }
  if (cur.accept('FUTURE', 'TABLES', 'IN', 'SCHEMA')) {
    const schema = grantedSchema(ctx, cur.name());
    if (!(await schemaExists(ctx.conn, schema[0] as string, schema[1] as string)))
      throw objectMissing(schema, 'Schema');
    return one('FUTURE_TABLES', schema, 'schema');
  }
  if (cur.accept('TABLE')) return one('TABLE', (await requireTable(ctx, cur.name())).name, 'table');
  if (cur.accept('SCHEMA')) {
    const schema = grantedSchema(ctx, cur.name());
    if (!(await schemaExists(ctx.conn, schema[0] as string, schema[1] as string)))
      throw objectMissing(schema, 'Schema');
    return one('SCHEMA', schema, 'schema');
  }
  if (cur.accept('DATABASE')) {
    const db = cur.ident();
    if (!(await databaseExists(ctx.conn, db))) throw objectMissing([db], 'Database');
    return one('DATABASE', [db], 'database');
  }
  if (cur.accept('STAGE')) {
    const stage = qualify(ctx.session, cur.name(), 'GRANT');
    if (!(await namedExists(ctx.conn, 'STAGES', stage))) throw objectMissing(stage, 'Stage');
    return one('STAGE', stage, 'stage');
  }
  if (cur.accept('FILE', 'FORMAT')) {
    const format = qualify(ctx.session, cur.name(), 'GRANT');
    if (!(await namedExists(ctx.conn, 'FILE_FORMATS', format))) throw objectMissing(format, 'File format');
    return one('FILE_FORMAT', format, 'file format');
  }
  if (cur.accept('INTEGRATION') || cur.accept('STORAGE', 'INTEGRATION')) {
    const name = cur.ident();
    if (!(await integrationExists(ctx.conn, name))) throw objectMissing([name], 'Integration');
    return one('INTEGRATION', [name], 'integration');
  }
  if (cur.accept('WAREHOUSE')) {
    const name = cur.ident();
    if (!(await warehouseExists(ctx.conn, name))) throw objectMissing([name], 'Warehouse');
    return one('WAREHOUSE', [name], 'warehouse');
  }
  if (cur.accept('RESOURCE', 'MONITOR')) {
    const name = cur.ident();
    if (!(await monitorExists(ctx.conn, name))) throw objectMissing([name], 'Resource monitor');
    return one('RESOURCE_MONITOR', [name], 'resource monitor');
  }
  if (cur.accept('ACCOUNT')) return one('ACCOUNT', [], 'account');
  const words: string[] = [];
  while (!cur.done() && !cur.isWord(toWord)) words.push(cur.next().value);
  throw unsupported(`GRANT ... ON ${words.join(' ')}`);
}

/** GRANT and REVOKE of privileges on objects, and of roles to users and roles. */
export async function grantOrRevoke(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  const isGrant = cur.next().value === 'GRANT';
  const toWord = isGrant ? 'TO' : 'FROM';
  if (cur.accept('ROLE')) {
    const role = cur.ident();
    cur.expect(toWord);
    const kind = cur.accept('USER') ? 'USER' : 'ROLE';
    if (kind === 'ROLE') cur.accept('ROLE');
    const grantee = cur.ident();
    if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
    if (kind === 'ROLE' && !(await roleExists(ctx.conn, grantee))) throw objectMissing([grantee], 'Role');
    // Granting a role takes its ownership or MANAGE GRANTS.
    await requireGrantOption(ctx, 'ROLE', [role], 'role');
    if (isGrant) await grantRole(ctx.conn, role, kind, grantee);
    else await revokeRole(ctx.conn, role, kind, grantee);
    return statementExecuted(STATEMENT_TYPE.DDL);
  }
  const privileges: string[] = [];
  let current: string[] = [];
  while (!cur.isWord('ON')) {
    const t = cur.next();
    if (t.text === ',') {
      privileges.push(current.join(' '));
      current = [];
    } else current.push(t.value);
  }
  privileges.push(current.join(' '));
  cur.expect('ON');
  const target = await grantTarget(ctx, cur, toWord);
  cur.expect(toWord);
  cur.accept('ROLE');
  if (cur.isWord('DATABASE') && cur.peek(1)?.value === 'ROLE') throw unsupported('database roles');
  const role = cur.ident();
  const currentGrants = readGrantTail(cur, isGrant, privileges);
  if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
  if (target.kind === 'FUTURE_TABLES') {
    // Future grants in a schema are for MANAGE GRANTS (or the schema's owner in a managed access schema).
    if (!(await holdsGlobal(ctx, 'MANAGE GRANTS')))
      throw insufficientPrivileges('schema', target.name[1] as string);
  } else {
    for (const object of target.each) await requireGrantOption(ctx, target.kind, object, target.label);
  }
  const grantsOwnership = privileges.some((p) => p === 'OWNERSHIP');
  if (grantsOwnership) {
    if (!isGrant) throw unsupported('REVOKE OWNERSHIP');
    // All objects are checked before any changes hands, so that a blocked one leaves the others as they were.
    await checkTransfer(ctx, target, role, currentGrants);
  }
  for (const object of target.each) {
    for (const p of privileges) {
      const privilege = p === 'ALL PRIVILEGES' ? 'ALL' : p;
      if (privilege === 'OWNERSHIP') await transferOwnership(ctx, target.kind, object, role, currentGrants);
      else if (isGrant) await grant(ctx.conn, privilege, target.kind, object, role);
      else await revoke(ctx.conn, privilege, target.kind, object, role);
    }
  }
  return statementExecuted(STATEMENT_TYPE.DDL);
}

/** GRANT OWNERSHIP's `[ { REVOKE | COPY } CURRENT GRANTS ]`. */
type CurrentGrants = 'COPY' | 'REVOKE' | undefined;

/**
 * What may follow the grantee: `{ REVOKE | COPY } CURRENT GRANTS` after GRANT OWNERSHIP, RESTRICT or CASCADE
 * after REVOKE (no grant here is held WITH GRANT OPTION, so none has dependent grants to cascade to).
 */
function readGrantTail(cur: Cursor, isGrant: boolean, privileges: readonly string[]): CurrentGrants {
  const at = cur.peek();
  let currentGrants: CurrentGrants;
  if (isGrant && cur.accept('COPY', 'CURRENT', 'GRANTS')) currentGrants = 'COPY';
  else if (isGrant && cur.accept('REVOKE', 'CURRENT', 'GRANTS')) currentGrants = 'REVOKE';
  else if (isGrant && cur.accept('WITH', 'GRANT', 'OPTION')) throw unsupported('GRANT ... WITH GRANT OPTION');
  else if (!isGrant && (cur.accept('RESTRICT') || cur.accept('CASCADE'))) currentGrants = undefined;
  if (!cur.done()) throw cur.unexpected();
  if (currentGrants && at && !(privileges.length === 1 && privileges[0] === 'OWNERSHIP')) {
    throw unexpectedToken(at.pos, at.text);
  }
  return currentGrants;
}

/**
 * 003036, as Snowflake refuses a transfer that outbound privileges block: "A GRANT OWNERSHIP statement fails
 * if existing outbound privileges on the object are neither revoked nor copied."
 */
function dependentGrant(privilege: string, object: readonly string[], role: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '003036',
    '23001',
    `SQL execution error: Dependent grant of privilege '${privilege}' on securable '${object.join('.')}' to role '${role}' exists.  It must be revoked first.  More than one dependent grant may exist: use 'SHOW GRANTS' command to view them.  To revoke all dependent grants while transferring object ownership, use convenience command 'GRANT OWNERSHIP ON <target_objects> TO <target_role> REVOKE CURRENT GRANTS'.`,
  );
}

/** "Outbound privileges refer to any privileges granted on the individual object whose ownership is changing." */
async function outbound(
  ctx: Ctx,
  kind: GrantObjectKind,
  object: readonly string[],
): Promise<{ privilege: string; role: string }[]> {
  return (await grantsOn(ctx.conn, kind, object)).filter((g) => g.privilege !== 'OWNERSHIP');
}

/** Whether a transfer may go ahead for every object the GRANT OWNERSHIP names. */
async function checkTransfer(
  ctx: Ctx,
  target: GrantTarget,
  role: string,
  currentGrants: CurrentGrants,
): Promise<void> {
  if (target.kind === 'FUTURE_TABLES') {
    // "the REVOKE keyword does not work when granting ownership of future objects"; nor is COPY described there.
    if (currentGrants)
      throw unsupported(`GRANT OWNERSHIP ON FUTURE TABLES ... ${currentGrants} CURRENT GRANTS`);
    return;
  }
  if (currentGrants === 'COPY') {
    // "The COPY parameter requires at least one of the following: An active role has the MANAGE GRANTS
    // privilege on the account. An active role is the new owner (or a higher) role."
    const allowed = (await holdsGlobal(ctx, 'MANAGE GRANTS')) || (await rolesOf(ctx)).has(role);
    if (!allowed) throw insufficientPrivileges(target.label, target.name[target.name.length - 1] ?? '');
  }
  if (target.kind === 'ROLE') {
    // "For role objects, if you do not specify these clauses, the GRANT OWNERSHIP statement is not blocked";
    // what REVOKE CURRENT GRANTS does to the roles granted to the role is not modelled.
    if (currentGrants === 'REVOKE') throw unsupported('GRANT OWNERSHIP ON ROLE ... REVOKE CURRENT GRANTS');
    return;
  }
  if (currentGrants) return;
  for (const object of target.each) {
    const blocking = (await outbound(ctx, target.kind, object))[0];
    if (blocking) throw dependentGrant(blocking.privilege, object, blocking.role);
  }
}

/**
 * Moves OWNERSHIP ("Only a single role can hold this privilege on a specific object at a time"). REVOKE
 * CURRENT GRANTS removes the object's outbound privileges first: "After transferring ownership, the privileges
 * for the object must be explicitly re-granted"; COPY keeps them, now granted by the new owner.
 */
async function transferOwnership(
  ctx: Ctx,
  kind: GrantObjectKind,
  object: readonly string[],
  role: string,
  currentGrants: CurrentGrants,
): Promise<void> {
  if (currentGrants === 'REVOKE') {
    for (const g of await outbound(ctx, kind, object)) {
      await revoke(ctx.conn, g.privilege, kind, object, g.role);
    }
  }
  await setOwner(ctx.conn, kind, object, role);
}
