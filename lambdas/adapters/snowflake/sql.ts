// How Tally writes names and literals into Snowflake SQL: every identifier quoted (a source column may be
// named like a Snowflake reserved word: `start`, `rows`, `order`), names from the configuration qualified
// by database and schema, string literals, and the stage's URL.
import type { S3Config, SnowflakeConfig } from '../../config';
import { SourceSchemaError } from '../../domain/errors';

/** A name PostgreSQL folded to lower case: one written without quotes. */
const UNQUOTED_IN_POSTGRES = /^[a-z_][a-z0-9_$]*$/;
/** A name Snowflake would read without quotes, in any case. */
const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * The name a source column has in Snowflake. PostgreSQL folds a name written without quotes to lower
 * case; Snowflake folds it to upper case: such a name becomes upper-case, so the target stays queryable
 * without quotes. Any other name (`MixedCase`, `with space`) was quoted on purpose and keeps its case.
 */
export function targetName(name: string): string {
  return UNQUOTED_IN_POSTGRES.test(name) ? name.toUpperCase() : name;
}

/** A name as a quoted Snowflake identifier: reserved words and any character are then read as the name. */
export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A source column as the target's quoted identifier. */
export function targetColumn(name: string): string {
  return quoted(targetName(name));
}

/** A name from configuration as Snowflake stores it: a plain identifier upper-cased, any other as is. */
export function storedName(name: string): string {
  return PLAIN.test(name) ? name.toUpperCase() : name;
}

/** A Snowflake identifier from configuration, quoted as it is stored (`storedName`). */
export function ident(name: string): string {
  return quoted(storedName(name));
}

/**
 * Refuses a table whose columns would share one name in Snowflake (`id` and `ID` both become `ID`): the
 * target could not hold both, and loading one into the other would be wrong.
 */
export function checkTargetColumns(table: string, columns: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const column of columns) {
    const name = targetName(column);
    const other = seen.get(name);
    if (other !== undefined) {
      throw new SourceSchemaError(
        `${table}: columns "${other}" and "${column}" would both be "${name}" in Snowflake; rename one in PostgreSQL or leave the table out of the configuration`,
      );
    }
    seen.set(name, column);
  }
}

/** `DATABASE.SCHEMA.NAME` of an object in Tally's schema. */
export function qualified(config: Pick<SnowflakeConfig, 'database' | 'schema'>, name: string): string {
  return `${ident(config.database)}.${ident(config.schema)}.${ident(name)}`;
}

/**
 * A single-quoted string literal. Inside one, Snowflake reads a backslash as the start of an escape
 * sequence and a doubled quote as a quote, so both are escaped.
 */
export function literal(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** Where exports land, as the stage's URL: every staged key lives under it. */
export function stageUrl(s3: Pick<S3Config, 'bucket' | 'prefix'>): string {
  const prefix = s3.prefix.replace(/^\/+|\/+$/g, '');
  return `s3://${s3.bucket}/${prefix === '' ? '' : `${prefix}/`}`;
}
