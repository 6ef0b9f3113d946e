// Snowflake's USE ROLE, USE WAREHOUSE, USE SECONDARY ROLES, USE SCHEMA and USE [DATABASE]: the session's current
// role, warehouse and namespace, each of which the role must be allowed to use.
import { databaseExists, effectiveRoles, roleExists, schemaExists, warehouseExists } from './catalog';
import type { Ctx } from './context';
import type { QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { objectMissing } from './errors';
import { canUse, isAccountAdmin, rolesOf } from './privileges';
import type { Cursor } from './sql-tokens';
import { statementExecuted } from './status';

const missing = () =>
  new SnowflakeSqlError(
    '002043',
    '02000',
    'SQL compilation error:\nObject does not exist, or operation cannot be performed.',
  );

/** A role the user may switch to: granted to them, directly or through the roles granted to those. */
async function userMayUse(ctx: Ctx, role: string): Promise<boolean> {
  const granted = ctx.session.grantedRoles?.();
  if (granted === undefined) return true;
  for (const g of granted) if ((await effectiveRoles(ctx.conn, g)).has(role)) return true;
  return false;
}

export async function use(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('USE');
  if (cur.accept('ROLE')) {
    const role = cur.ident();
    if (!(await roleExists(ctx.conn, role)) || !(await userMayUse(ctx, role)))
      throw objectMissing([role], 'Role');
    ctx.session.role = role;
  } else if (cur.accept('WAREHOUSE')) {
    // "USAGE: Enables using a virtual warehouse".
    const name = cur.ident();
    if (!(await warehouseExists(ctx.conn, name)) || !(await canUse(ctx, 'WAREHOUSE', [name])))
      throw missing();
    ctx.session.warehouse = name;
  } else if (cur.accept('SECONDARY', 'ROLES')) {
    cur.rest();
  } else if (cur.accept('SCHEMA')) {
    const parts = cur.name();
    const [db, schema] = parts.length === 2 ? parts : [ctx.session.database, parts[0]];
    if (!db || !schema || !(await schemaExists(ctx.conn, db, schema))) throw missing();
    if (!isAccountAdmin(await rolesOf(ctx)) && !(await canUse(ctx, 'SCHEMA', [db, schema]))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = schema;
  } else {
    cur.accept('DATABASE');
    const db = cur.ident();
    // "To make a database the active database in a user session, the USAGE privilege on the database is required."
    if (!(await databaseExists(ctx.conn, db)) || !(await canUse(ctx, 'DATABASE', [db]))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = (await schemaExists(ctx.conn, db, 'PUBLIC')) ? 'PUBLIC' : '';
  }
  if (!cur.done()) throw cur.unexpected();
  return statementExecuted(STATEMENT_TYPE.SCL);
}
