// The SQL that shapes Tally's Snowflake objects: target tables, the audit table, the CSV file format and
// the S3 stage (made by the bootstrap when missing or outdated), and the one-time script an administrator
// runs on a real account to create the roles, grants, storage integration and service user
// (`tally snowflake-ddl`).
import { createHash } from 'node:crypto';
import type { S3Config, SnowflakeConfig } from '../../config';
import { AUDIT_COLUMNS } from '../../domain/audit';
import { CODECS, type CodecName } from '../../domain/compression';
import { InvalidInputError } from '../../domain/errors';
import type { ResolvedTable } from '../../domain/table';
import { targetTypeOf } from '../../domain/type-mapping';
import { ident, literal, qualified, stageUrl, storedName, targetColumn } from './sql';
import { snowflakeType } from './types';

export type DdlConfig = Pick<
  SnowflakeConfig,
  | 'database'
  | 'schema'
  | 'warehouse'
  | 'stage'
  | 'fileFormat'
  | 'auditTable'
  | 'storageIntegration'
  | 'username'
>;

const AUDIT_TYPES = {
  string: 'VARCHAR',
  integer: 'NUMBER(38,0)',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP_TZ(6)',
};

/** The lease table: one row per table being loaded, naming the execution that may load it. */
export const LOCK_TABLE = 'TALLY_LOCKS';

export function createTargetTable(config: DdlConfig, table: ResolvedTable): string {
  const columns = table.columns.map(
    (c) => `${targetColumn(c.name)} ${snowflakeType(targetTypeOf(c, table))}${c.nullable ? '' : ' NOT NULL'}`,
  );
  const key = table.primaryKey.map(targetColumn).join(', ');
  // Snowflake records but does not enforce the key; it documents the MERGE key to readers.
  return `CREATE TABLE IF NOT EXISTS ${qualified(config, table.targetName)} (${columns.join(', ')}, PRIMARY KEY (${key}))`;
}

export function createAuditTable(config: DdlConfig): string {
  const columns = AUDIT_COLUMNS.map((c) => {
    const notNull = ['EVENT_ID', 'JOB_ID', 'EVENT_TYPE', 'ROW_HASH', 'CREATED_AT'].includes(c.column);
    return `${ident(c.column)} ${AUDIT_TYPES[c.kind]}${notNull ? ' NOT NULL' : ''}`;
  });
  return `CREATE TABLE IF NOT EXISTS ${qualified(config, config.auditTable)} (${columns.join(', ')})`;
}

/**
 * The CSV the PostgreSQL exporter writes, exactly: compressed with the configured codec, UTF-8, one header line, `"` quoting with quotes
 * doubled inside. PostgreSQL's CSV has no escape character, so none is declared: Snowflake's default
 * ESCAPE_UNENCLOSED_FIELD is a backslash, which would turn an unquoted `C:\temp` into `C:` + TAB + `emp`.
 * An unquoted empty field is NULL and a quoted one (`""`) an empty string, as PostgreSQL writes them;
 * nothing else means NULL, so a text value `\N` or `NULL` stays text.
 */
export function fileFormatOptions(codec: CodecName): string {
  return [
    `TYPE = CSV COMPRESSION = ${CODECS[codec].snowflake} FIELD_DELIMITER = ',' SKIP_HEADER = 1`,
    "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = NONE ESCAPE_UNENCLOSED_FIELD = NONE",
    'EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE',
    "ENCODING = 'UTF8' REPLACE_INVALID_CHARACTERS = FALSE",
  ].join(' ');
}

/**
 * What an object's COMMENT carries so that the bootstrap knows it is the one this Tally would make: a
 * digest of its definition. An object made by an earlier Tally (or changed since) carries another.
 */
export function fingerprint(definition: string): string {
  return `tally:${createHash('sha256').update(definition).digest('hex').slice(0, 16)}`;
}

function commented(what: string, definition: string): string {
  return `${definition} COMMENT = ${literal(`${what}, made by Tally, which replaces it when its definition changes (${fingerprint(definition)})`)}`;
}

/**
 * Replaced when outdated (`bootstrapStatements`): an `IF NOT EXISTS` would keep an earlier definition, and
 * a change of `pipeline.compression.codec` changes the definition.
 */
export function createFileFormat(config: DdlConfig, codec: CodecName): string {
  return `CREATE OR REPLACE FILE FORMAT ${qualified(config, config.fileFormat)} ${commented("Tally's CSV", fileFormatOptions(codec))}`;
}

function stageDefinition(config: DdlConfig, s3: Pick<S3Config, 'bucket' | 'prefix'>): string {
  const integration =
    config.storageIntegration === undefined
      ? ''
      : ` STORAGE_INTEGRATION = ${ident(config.storageIntegration)}`;
  return `URL = ${literal(stageUrl(s3))}${integration} FILE_FORMAT = (FORMAT_NAME = ${literal(qualified(config, config.fileFormat))})`;
}

export function createStage(config: DdlConfig, s3: Pick<S3Config, 'bucket' | 'prefix'>): string {
  return `CREATE OR REPLACE STAGE ${qualified(config, config.stage)} ${commented("Tally's exports", stageDefinition(config, s3))}`;
}

export function createLockTable(config: DdlConfig): string {
  const columns = [
    'TABLE_NAME VARCHAR',
    'EXECUTION_ID VARCHAR',
    'ACQUIRED_AT TIMESTAMP_TZ(6)',
    'EXPIRES_AT TIMESTAMP_TZ(6)',
  ]
    .map((c) => {
      const [name, type] = c.split(' ') as [string, string];
      return `${ident(name)} ${type} NOT NULL`;
    })
    .join(', ');
  return `CREATE TABLE IF NOT EXISTS ${qualified(config, LOCK_TABLE)} (${columns})`;
}

/** The schema Tally's objects live in, for when it does not exist yet (the administrator's script makes it). */
export function createSchema(config: DdlConfig): string {
  return `CREATE SCHEMA IF NOT EXISTS ${ident(config.database)}.${ident(config.schema)}`;
}

/** What a schema already holds, as the bootstrap reads it (SHOW ... IN SCHEMA). */
export interface PresentObjects {
  /** The comment of Tally's file format; absent when there is none. */
  readonly fileFormatComment?: string;
  /** The comment of Tally's stage; absent when there is none. */
  readonly stageComment?: string;
  /** The names of the schema's tables, as stored. */
  readonly tables: ReadonlySet<string>;
}

/**
 * What the bootstrap runs, in order, each needing only the privileges the administrator's script grants
 * on the schema: the file format and the stage when missing or made to another definition (their
 * comment's fingerprint tells), each table when missing. Nothing when everything is in place.
 */
export function bootstrapStatements(
  config: DdlConfig,
  s3: Pick<S3Config, 'bucket' | 'prefix'>,
  tables: readonly ResolvedTable[],
  present: PresentObjects,
  codec: CodecName,
): string[] {
  const current = (comment: string | undefined, definition: string) =>
    comment?.includes(`(${fingerprint(definition)})`) === true;
  const missing = (name: string) => !present.tables.has(storedName(name));
  const statements: string[] = [];
  if (!current(present.fileFormatComment, fileFormatOptions(codec)))
    statements.push(createFileFormat(config, codec));
  if (!current(present.stageComment, stageDefinition(config, s3))) statements.push(createStage(config, s3));
  if (missing(config.auditTable)) statements.push(createAuditTable(config));
  for (const t of tables) if (missing(t.targetName)) statements.push(createTargetTable(config, t));
  if (missing(LOCK_TABLE)) statements.push(createLockTable(config));
  return statements;
}

export interface AdminDdlOptions {
  /** The service user's RSA public key (PEM or bare base64). Without it, a placeholder to fill in. */
  readonly publicKey?: string;
  /** The IAM role Snowflake assumes to read the bucket. Without it, a placeholder to fill in. */
  readonly awsRoleArn?: string;
  readonly loaderRole?: string;
  readonly auditWriterRole?: string;
  /** The resource monitor's monthly credit quota for Tally's warehouse. Default DEFAULT_MONTHLY_CREDITS. */
  readonly monthlyCredits?: number;
}

/**
 * The default monthly credit quota. The schedule resumes the warehouse 48 times a day; an XSMALL
 * warehouse costs 1 credit an hour, billed by the second with a minimum of 60 s at each resume, and
 * suspends after AUTO_SUSPEND = 60 s of idling: about 2 to 3 billed minutes a run, 50 to 70 credits a
 * month, with room left for a historical load.
 */
export const DEFAULT_MONTHLY_CREDITS = 100;

/** The warehouse the script makes when the configuration names none. */
export const DEFAULT_WAREHOUSE = 'TALLY_WH';

/**
 * A value the administrator must supply. Written outside any quotes, so that the statement holding it is
 * a syntax error until it is replaced: a script run as printed stops there instead of creating something
 * wrong.
 */
export function placeholder(what: string): string {
  return `<<FILL IN: ${what}>>`;
}
const PLACEHOLDER = /<<FILL IN: [^>]*>>/g;

export interface DdlStep {
  readonly sql: string;
  /** Why the statement is there, printed above it as a comment. */
  readonly why?: string;
}

/**
 * The statements an administrator (ACCOUNTADMIN) runs once on a real account. The loader role owns the
 * target and staging tables it creates; the audit table is owned by the administrator, and the loader
 * reaches it only through the audit-writer role, which may INSERT and SELECT (for the hash chain) but
 * never UPDATE or DELETE.
 */
export function snowflakeDdlSteps(
  config: { readonly snowflake: DdlConfig; readonly s3: Pick<S3Config, 'bucket' | 'prefix'> },
  tables: readonly ResolvedTable[],
  options: AdminDdlOptions = {},
): DdlStep[] {
  const sf = config.snowflake;
  const loader = ident(options.loaderRole ?? 'TALLY_LOADER');
  const writer = ident(options.auditWriterRole ?? 'TALLY_AUDIT_WRITER');
  const db = ident(sf.database);
  const schema = `${db}.${ident(sf.schema)}`;
  const integration = ident(sf.storageIntegration ?? 'TALLY_S3');
  const user = ident(sf.username);
  const key =
    options.publicKey === undefined
      ? placeholder(
          "the service user's RSA public key body in single quotes, or rerun with --public-key-file",
        )
      : literal(options.publicKey.replace(/-----[A-Z ]+-----|\s/g, ''));
  const roleArn =
    options.awsRoleArn === undefined
      ? placeholder(
          'the ARN of the IAM role Snowflake assumes, in single quotes, or rerun with --aws-role-arn',
        )
      : literal(options.awsRoleArn);
  const audit = qualified(sf, sf.auditTable);
  const warehouse = ident(sf.warehouse ?? DEFAULT_WAREHOUSE);
  const monitor = ident('TALLY_MONITOR');
  const credits = options.monthlyCredits ?? DEFAULT_MONTHLY_CREDITS;
  if (!Number.isInteger(credits) || credits <= 0) {
    throw new InvalidInputError(`the monthly credit quota must be a whole number above 0, not ${credits}`);
  }
  const steps: DdlStep[] = [
    {
      sql: `CREATE ROLE IF NOT EXISTS ${loader}`,
      why: 'Loads data: owns the target tables, stage and file format.',
    },
    { sql: `CREATE ROLE IF NOT EXISTS ${writer}`, why: 'Writes the audit log: INSERT and SELECT only.' },
    { sql: `GRANT ROLE ${writer} TO ROLE ${loader}` },
    {
      sql: `GRANT ROLE ${loader} TO ROLE SYSADMIN`,
      why: 'Keeps the role hierarchy: administrators see what Tally creates.',
    },
    { sql: `CREATE DATABASE IF NOT EXISTS ${db}` },
    { sql: createSchema(sf) },
    {
      sql: `CREATE RESOURCE MONITOR IF NOT EXISTS ${monitor} WITH CREDIT_QUOTA = ${credits} FREQUENCY = MONTHLY START_TIMESTAMP = IMMEDIATELY TRIGGERS ON 80 PERCENT DO NOTIFY ON 100 PERCENT DO SUSPEND`,
      why: `Caps Tally's warehouse at ${credits} credits a month (--monthly-credits): account administrators are notified at 80 %, and at 100 % the warehouse is suspended, so loads fail loudly rather than spend on.`,
    },
    {
      sql: `CREATE WAREHOUSE IF NOT EXISTS ${warehouse} WITH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE RESOURCE_MONITOR = ${monitor}`,
      why: "Tally's own warehouse: the schedule resumes it 48 times a day, and suspending after 60 s idle (not the default 600 s) bills each run minutes, not ten.",
    },
    {
      sql: `ALTER WAREHOUSE ${warehouse} SET AUTO_SUSPEND = 60 RESOURCE_MONITOR = ${monitor}`,
      why: "The same for a warehouse that existed already. It should be Tally's alone: a shared one would be suspended with it at the quota.",
    },
    { sql: `GRANT USAGE ON WAREHOUSE ${warehouse} TO ROLE ${loader}` },
    { sql: `GRANT USAGE ON DATABASE ${db} TO ROLE ${writer}` },
    { sql: `GRANT USAGE ON SCHEMA ${schema} TO ROLE ${writer}` },
    { sql: `GRANT USAGE ON DATABASE ${db} TO ROLE ${loader}` },
    { sql: `GRANT USAGE ON SCHEMA ${schema} TO ROLE ${loader}` },
    {
      sql: `GRANT CREATE TABLE, CREATE STAGE, CREATE FILE FORMAT ON SCHEMA ${schema} TO ROLE ${loader}`,
      why: 'Bootstrap creates target tables, staging tables, the stage and the file format.',
    },
    {
      sql: [
        `CREATE STORAGE INTEGRATION IF NOT EXISTS ${integration} TYPE = EXTERNAL_STAGE STORAGE_PROVIDER = 'S3'`,
        `ENABLED = TRUE STORAGE_AWS_ROLE_ARN = ${roleArn}`,
        `STORAGE_ALLOWED_LOCATIONS = (${literal(stageUrl(config.s3))})`,
      ].join(' '),
      why: 'Snowflake reads the bucket through an IAM role: no keys in SQL. DESC INTEGRATION gives the trust policy values.',
    },
    { sql: `GRANT USAGE ON INTEGRATION ${integration} TO ROLE ${loader}` },
    {
      sql: createAuditTable(sf),
      why: 'Owned by the administrator, so no Tally role can change or delete a row.',
    },
    { sql: `GRANT INSERT, SELECT ON TABLE ${audit} TO ROLE ${writer}` },
    ...tables.map((t) => ({
      sql: createTargetTable(sf, t),
      why: `Target of ${t.schema}.${t.name} (bootstrap creates it too when missing).`,
    })),
    ...tables.map((t) => ({
      sql: `GRANT OWNERSHIP ON TABLE ${qualified(sf, t.targetName)} TO ROLE ${loader} COPY CURRENT GRANTS`,
      why: 'Owned by the loader, as a target the bootstrap makes would be: its historical load replaces its rows.',
    })),
    {
      sql: [
        `CREATE USER IF NOT EXISTS ${user} TYPE = SERVICE DEFAULT_ROLE = ${loader}`,
        `DEFAULT_WAREHOUSE = ${warehouse}`,
        `RSA_PUBLIC_KEY = ${key}`,
      ]
        .join(' ')
        .replace(/\s+/g, ' '),
      why: 'The service user signs in with a key pair only (no password).',
    },
    { sql: `GRANT ROLE ${loader} TO USER ${user}` },
  ];
  return steps;
}

/** The placeholders the script's statements still hold, each once. */
export function unfilled(steps: readonly DdlStep[]): string[] {
  return [...new Set(steps.flatMap((step) => step.sql.match(PLACEHOLDER) ?? []))];
}

/** The administrator's script as text: each statement with its reason as a comment above it. */
export function snowflakeDdl(
  config: { readonly snowflake: DdlConfig; readonly s3: Pick<S3Config, 'bucket' | 'prefix'> },
  tables: readonly ResolvedTable[],
  options: AdminDdlOptions = {},
): string {
  const steps = snowflakeDdlSteps(config, tables, options);
  const missing = unfilled(steps);
  const lines = [
    '-- Run as ACCOUNTADMIN on the target account. Every statement is safe to run again.',
    ...(missing.length === 0
      ? []
      : [
          `-- BEFORE RUNNING: replace each of the ${missing.length} placeholder(s) marked <<FILL IN: ...>>; until then the statements holding them are syntax errors:`,
          ...missing.map((m) => `--   ${m}`),
        ]),
    'USE ROLE ACCOUNTADMIN;',
  ];
  for (const step of steps) {
    lines.push('');
    if (step.why) lines.push(`-- ${step.why}`);
    lines.push(`${step.sql};`);
  }
  return `${lines.join('\n')}\n`;
}
