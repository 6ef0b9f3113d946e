// What the source catalog says about a configured table: that it exists, is a table the user may read,
// has the configured primary key and a usable cursor column, and only columns Tally can transfer.
import { SourceAuthError, SourceSchemaError } from '../../domain/errors';
import { qualifiedName, type ResolvedTable, type TableSpec, targetNameOf } from '../../domain/table';
import type { PgConnections } from './connection';
import { type CatalogColumn, cursorKindOf, untransferableReason } from './sql';

const TABLE_SQL = `
  SELECT c.oid::int8::text AS oid, c.relkind AS kind, has_table_privilege(c.oid, 'SELECT') AS readable
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2`;

const SCHEMA_SQL = 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1';

const ENCODING_SQL =
  'SELECT pg_catalog.pg_encoding_to_char(encoding) AS encoding FROM pg_catalog.pg_database WHERE datname = current_database()';

// Domains are described by their base type and arrays by their element type.
const COLUMNS_SQL = `
  SELECT a.attname AS name,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS pg_type,
         NOT a.attnotnull AS nullable,
         bt.typcategory AS category,
         COALESCE(et.typname, bt.typname) AS base_type,
         COALESCE(et.typcategory, bt.typcategory) AS element_category
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
  WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const PRIMARY_KEY_SQL = `
  SELECT a.attname AS name
  FROM pg_catalog.pg_index i
  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
  WHERE i.indrelid = $1::oid AND i.indisprimary
  ORDER BY k.ord`;

/** Checks a configured table against the catalog; throws SourceSchemaError naming what is wrong. */
export async function resolveTable(connections: PgConnections, spec: TableSpec): Promise<ResolvedTable> {
  const name = qualifiedName(spec);
  return connections.withClient(async (client) => {
    const encoding = (await client.query<{ encoding: string }>(ENCODING_SQL)).rows[0]?.encoding;
    if (encoding === 'SQL_ASCII') {
      // The server converts every other encoding to UTF-8 for Tally; SQL_ASCII stores bytes of no known
      // encoding, which Snowflake would refuse or, worse, read as something else.
      throw new SourceSchemaError(
        `PostgreSQL database ${connections.where} uses the SQL_ASCII encoding, whose bytes have no known character set: Tally cannot export ${name} as UTF-8; convert the database to UTF8 (or the encoding its text is really in)`,
      );
    }
    const found = await client.query<{ oid: string; kind: string; readable: boolean }>(TABLE_SQL, [
      spec.schema,
      spec.name,
    ]);
    const table = found.rows[0];
    if (!table) {
      const schema = await client.query(SCHEMA_SQL, [spec.schema]);
      if (schema.rowCount === 0) {
        throw new SourceSchemaError(
          `schema "${spec.schema}" does not exist in PostgreSQL database ${connections.where}: check the schema of table "${spec.name}" in the configuration`,
        );
      }
      throw new SourceSchemaError(
        `table "${spec.name}" does not exist in schema "${spec.schema}" of PostgreSQL database ${connections.where}: check the table name in the configuration (names are case-sensitive)`,
      );
    }
    if (table.kind !== 'r' && table.kind !== 'p') {
      throw new SourceSchemaError(
        `${name} is not a table (relkind ${table.kind}): Tally exports tables with a primary key; configure the underlying table instead`,
      );
    }
    if (!table.readable) {
      throw new SourceAuthError(
        `PostgreSQL user ${connections.user} may not read ${name}: GRANT SELECT on it to that user`,
      );
    }
    const columns = (
      await client.query<{
        name: string;
        pg_type: string;
        nullable: boolean;
        category: string;
        base_type: string;
        element_category: string;
      }>(COLUMNS_SQL, [table.oid])
    ).rows.map(
      (r): CatalogColumn => ({
        name: r.name,
        pgType: r.pg_type,
        nullable: r.nullable,
        category: r.category,
        baseType: r.base_type,
        elementCategory: r.element_category,
      }),
    );
    const primaryKey = (await client.query<{ name: string }>(PRIMARY_KEY_SQL, [table.oid])).rows.map(
      (r) => r.name,
    );
    return checkTable(spec, columns, primaryKey);
  });
}

/** Confirms a spec against the table the catalog describes, or says what to change. */
function checkTable(
  spec: TableSpec,
  columns: readonly CatalogColumn[],
  primaryKey: readonly string[],
): ResolvedTable {
  const name = qualifiedName(spec);
  if (primaryKey.length === 0) {
    throw new SourceSchemaError(
      `${name} has no primary key: add one (ALTER TABLE ... ADD PRIMARY KEY); Tally merges and splits on it`,
    );
  }
  if (primaryKey.length !== spec.primaryKey.length || primaryKey.some((k, i) => k !== spec.primaryKey[i])) {
    throw new SourceSchemaError(
      `the configured primary key (${spec.primaryKey.join(', ')}) of ${name} is not its primary key (${primaryKey.join(', ')}): set primaryKey to [${primaryKey.map((k) => `"${k}"`).join(', ')}]`,
    );
  }
  const cursor = columns.find((c) => c.name === spec.cursorColumn);
  const cursorKind = cursor ? cursorKindOf(cursor) : null;
  const candidates = columns.filter((c) => cursorKindOf(c) !== null).map((c) => c.name);
  const hint = candidates.length > 0 ? ` (candidates: ${candidates.join(', ')})` : '';
  if (!cursor) {
    throw new SourceSchemaError(
      `cursor column "${spec.cursorColumn}" does not exist in ${name}: set cursorColumn to a timestamp, date or integer column of the table${hint}`,
    );
  }
  if (cursorKind === null) {
    throw new SourceSchemaError(
      `cursor column "${cursor.name}" of ${name} has type ${cursor.pgType}: a cursor must be timestamp, timestamptz, date, smallint, integer or bigint${hint}`,
    );
  }
  for (const text of spec.textColumns ?? []) {
    if (!columns.some((c) => c.name === text)) {
      throw new SourceSchemaError(
        `textColumns of ${name} names "${text}", which is not a column of the table: check the name (names are case-sensitive)`,
      );
    }
    if (text === spec.cursorColumn) {
      throw new SourceSchemaError(
        `textColumns of ${name} names the cursor column "${text}": windows compare cursor values, which text would order differently; leave it out`,
      );
    }
  }
  const refused = columns
    .map((c) => ({ c, reason: untransferableReason(c) }))
    .filter((x) => x.reason !== null)
    .map((x) => `"${x.c.name}" (${x.c.pgType})`);
  if (refused.length > 0) {
    throw new SourceSchemaError(
      `${name} has columns Tally cannot transfer: ${refused.join(', ')}; change them to a type in the README's CSV type mapping, or leave the table out of the configuration`,
    );
  }
  return {
    ...spec,
    primaryKey: [...primaryKey],
    columns: columns.map(({ elementCategory: _, ...column }) => column),
    cursorKind,
    targetName: targetNameOf(spec),
  };
}
