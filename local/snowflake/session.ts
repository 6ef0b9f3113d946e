// Snowflake's USE ROLE, USE WAREHOUSE, USE SECONDARY ROLES, USE SCHEMA and USE [DATABASE]: the session's
// current role and namespace, which unqualified names resolve against.
import { databaseExists, roleExists, schemaExists } from './catalog';
import type { Ctx } from './context';
import type { QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { objectMissing } from './errors';
import type { Cursor } from './sql-tokens';
import { statementExecuted } from './status';

export async function use(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('USE');
  const missing = () =>
    new SnowflakeSqlError(
      '002043',
      '02000',
      'SQL compilation error:\nObject does not exist, or operation cannot be performed.',
    );
  if (cur.accept('ROLE')) {
    const role = cur.ident();
    if (!(await roleExists(ctx.conn, role))) throw objectMissing([role], 'Role');
    ctx.session.role = role;
  } else if (cur.accept('WAREHOUSE')) {
    ctx.session.warehouse = cur.ident();
  } else if (cur.accept('SECONDARY', 'ROLES')) {
    cur.rest();
  } else if (cur.accept('SCHEMA')) {
    const parts = cur.name();
    const [db, schema] = parts.length === 2 ? parts : [ctx.session.database, parts[0]];
    if (!db || !schema || !(await schemaExists(ctx.conn, db, schema))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = schema;
  } else {
    cur.accept('DATABASE');
    const db = cur.ident();
    if (!(await databaseExists(ctx.conn, db))) throw missing();
    ctx.session.database = db;
    ctx.session.schema = (await schemaExists(ctx.conn, db, 'PUBLIC')) ? 'PUBLIC' : '';
  }
  if (!cur.done()) throw cur.unexpected();
  return statementExecuted(STATEMENT_TYPE.SCL);
}
