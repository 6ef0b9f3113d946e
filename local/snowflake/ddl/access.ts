// Snowflake's roles, users (as catalog records; auth.ts keeps their logins) and GRANT / REVOKE of
// privileges and roles. Only table privileges are enforced (catalog.ts); the rest are recorded.
import {
  dropRole as forgetRole,
  dropUser as forgetUser,
  type GrantObjectKind,
  grant,
  grantRole,
  createRole as recordRole,
  createUser as recordUser,
  revoke,
  revokeRole,
  roleExists,
  userExists,
} from '../catalog';
import { type Ctx, qualify, requireTable } from '../context';
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import { objectMissing } from '../errors';
import type { Cursor } from '../sql-tokens';
import { statementExecuted } from '../status';
import { type CreateModifiers, claimName, type Dropped, ddlDone } from './common';

/** CREATE ROLE and CREATE USER: a name in a catalog table, nothing more. */
function createNamed(
  kind: 'Role' | 'User',
  exists: (c: Ctx['conn'], n: string) => Promise<boolean>,
  make: (c: Ctx['conn'], n: string) => Promise<void>,
) {
  return async (ctx: Ctx, cur: Cursor, modifiers: CreateModifiers): Promise<QueryResult> => {
    const name = cur.ident();
    cur.rest();
    const existing = await claimName(name, await exists(ctx.conn, name), modifiers);
    if (existing) return existing;
    await make(ctx.conn, name);
    return ddlDone(`${kind} ${name} successfully created.`);
  };
}

export const createRole = createNamed('Role', roleExists, recordRole);
export const createUser = createNamed('User', userExists, recordUser);

export async function dropRole(ctx: Ctx, parts: readonly string[]): Promise<Dropped> {
  const role = parts[parts.length - 1] as string;
  if (!(await roleExists(ctx.conn, role))) return { name: [role], kind: 'Role' };
  await forgetRole(ctx.conn, role);
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
  let kind: GrantObjectKind;
  let object: string[];
  if (cur.accept('ALL', 'TABLES', 'IN', 'SCHEMA') || cur.accept('FUTURE', 'TABLES', 'IN', 'SCHEMA')) {
    kind = cur.tokens[cur.index - 4]?.value === 'ALL' ? 'ALL_TABLES' : 'FUTURE_TABLES';
    object = grantedSchema(ctx, cur.name());
  } else if (cur.accept('TABLE')) {
    kind = 'TABLE';
    const found = await requireTable(ctx, cur.name());
    object = found.name;
  } else if (cur.accept('SCHEMA')) {
    kind = 'SCHEMA';
    object = grantedSchema(ctx, cur.name());
  } else if (cur.accept('DATABASE')) {
    kind = 'DATABASE';
    object = [cur.ident()];
  } else if (cur.accept('STAGE')) {
    kind = 'STAGE';
    object = qualify(ctx.session, cur.name(), 'GRANT');
  } else {
    // Warehouses, integrations, file formats...: recorded, not enforced.
    kind = 'OTHER';
    const words: string[] = [];
    while (!cur.isWord(toWord)) words.push(cur.next().value);
    object = words;
  }
  cur.expect(toWord);
  cur.accept('ROLE');
  const role = cur.ident();
  if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
  for (const p of privileges) {
    const privilege = p === 'ALL PRIVILEGES' ? 'ALL' : p;
    if (isGrant) await grant(ctx.conn, privilege, kind, object, role);
    else await revoke(ctx.conn, privilege, kind, object, role);
  }
  return statementExecuted(STATEMENT_TYPE.DDL);
}
