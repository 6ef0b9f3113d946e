// How Tally writes names and literals into Snowflake SQL: source column names as identifiers, names from
// the configuration qualified by database and schema, string literals, and the stage's URL.
import type { S3Config, SnowflakeConfig } from '../../config';

/** A source column name as a Snowflake identifier: plain names unquoted (stored upper-case), others quoted. */
export function targetColumn(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) ? name.toUpperCase() : `"${name.replaceAll('"', '""')}"`;
}

/** A Snowflake identifier from configuration (already validated as a plain identifier). */
export function ident(name: string): string {
  return targetColumn(name);
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
