// SHOW FILE FORMATS and SHOW STAGES [LIKE '<pattern>'] IN SCHEMA [<db>.]<schema>
// (https://docs.snowflake.com/en/sql-reference/sql/show-file-formats,
// https://docs.snowflake.com/en/sql-reference/sql/show-stages): the objects of one schema the role has a
// privilege on. Only the columns the stand-in knows the value of are answered (no creation time, no
// format_options, no region); other scopes than one schema are refused.
import { getFileFormat, getStage, namedIn, ownerOf, privilegesHeld } from '../catalog';
import { type Ctx, qualify, requireSchema } from '../context';
import { type QueryResult, STATEMENT_TYPE } from '../engine-types';
import { unsupported } from '../errors';
import { isAccountAdmin, requireContainers, rolesOf } from '../privileges';
import { columnMeta, sfType } from '../sf-types';
import type { Cursor } from '../sql-tokens';

export async function showSchemaObjects(ctx: Ctx, cur: Cursor): Promise<QueryResult> {
  cur.expect('SHOW');
  const kind = cur.accept('FILE', 'FORMATS') ? 'FILE_FORMAT' : cur.accept('STAGES') ? 'STAGE' : null;
  if (kind === null) throw unsupported(`SHOW ${cur.peek()?.value ?? ''}`.trim());
  const like = readLike(cur);
  if (!cur.accept('IN', 'SCHEMA'))
    throw unsupported(`SHOW ${kind === 'STAGE' ? 'STAGES' : 'FILE FORMATS'} outside IN SCHEMA`);
  const parts = cur.name();
  if (parts.length > 2) throw cur.unexpected();
  // A schema's name completes as the name of an object in it would: with the current database.
  const [db, schema] = qualify(ctx.session, [...parts, ''], 'SHOW') as [string, string, string];
  if (!cur.done()) throw cur.unexpected();
  await requireSchema(ctx.conn, db, schema);
  await requireContainers(ctx, db, schema);

  const roles = await rolesOf(ctx);
  const rows: (string | null)[][] = [];
  for (const name of await namedIn(ctx.conn, kind === 'STAGE' ? 'STAGES' : 'FILE_FORMATS', db, schema)) {
    // "LIKE ... Filters the command output by object name ... case-insensitive."
    if (like && !like.test(name)) continue;
    const parts = [db, schema, name];
    // "Lists the ... for which you have access privileges."
    if (!isAccountAdmin(roles) && (await privilegesHeld(ctx.conn, roles, kind, parts)).size === 0) continue;
    const owner = (await ownerOf(ctx.conn, kind, parts)) ?? null;
    if (kind === 'STAGE') {
      const stage = await getStage(ctx.conn, parts);
      rows.push([
        name,
        db,
        schema,
        stage?.url ?? null,
        owner,
        stage?.comment ?? '',
        stage?.integration ?? null,
      ]);
    } else {
      const options = (await getFileFormat(ctx.conn, parts)) ?? {};
      const comment = typeof options.COMMENT === 'string' ? options.COMMENT : '';
      rows.push([name, db, schema, 'CSV', owner, comment]);
    }
  }
  const names =
    kind === 'STAGE'
      ? ['name', 'database_name', 'schema_name', 'url', 'owner', 'comment', 'storage_integration']
      : ['name', 'database_name', 'schema_name', 'type', 'owner', 'comment'];
  const text = sfType('VARCHAR');
  return { columns: names.map((n) => columnMeta(n, text)), rows, statementTypeId: STATEMENT_TYPE.SELECT };
}

/**
 * SHOW's optional `LIKE '<pattern>'`: "Optionally filters the command output by object name. The filter uses
 * case-insensitive pattern matching, with support for SQL wildcard characters (% and _)."
 */
export function readLike(cur: Cursor): RegExp | undefined {
  if (!cur.accept('LIKE')) return undefined;
  const pattern = cur.next();
  if (pattern.kind !== 'string') {
    cur.index--;
    throw cur.unexpected();
  }
  return likePattern(pattern.value);
}

/** A LIKE pattern (`%` any run, `_` one character, `\` escaping either) as a case-insensitive RegExp. */
function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += literalChar(pattern[++i] as string);
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += literalChar(c);
  }
  return new RegExp(`^${source}$`, 'is');
}

function literalChar(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
