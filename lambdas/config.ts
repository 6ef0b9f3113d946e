// Tally's one configuration, shared by the command line, the Lambdas and the CDK app. It is parsed once
// against this schema; a bad setting fails at start with the setting's path in the message.
import { z } from 'zod';
import { InvalidConfigError } from './domain/errors';
import { targetNameOf } from './domain/table';

const identifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a plain identifier (letters, digits, _ and $)');

export const tableSchema = z
  .object({
    schema: identifier.default('public'),
    name: identifier,
    primaryKey: z
      .union([identifier, z.array(identifier).min(1)])
      .transform((v) => (Array.isArray(v) ? v : [v])),
    cursorColumn: identifier,
    targetName: identifier.optional(),
    /** Columns loaded as their exact PostgreSQL text (VARCHAR), for values the mapped type cannot hold. */
    textColumns: z.array(z.string().min(1)).optional(),
  })
  .strict();

/**
 * How the PostgreSQL connection is protected, as libpq's sslmode: `verify-full` (the default) verifies the
 * server's certificate and that it names the host, `verify-ca` the certificate only, `require` encrypts
 * without verifying, `disable` sends everything in clear (only for a trusted network, such as the
 * embedded PostgreSQL on loopback). libpq's `allow` and `prefer` are refused: they fall back to cleartext
 * without saying so (https://www.postgresql.org/docs/current/libpq-ssl.html).
 */
export const POSTGRES_TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type PostgresTlsMode = (typeof POSTGRES_TLS_MODES)[number];

/** `ssl`: `false` (no TLS), `true` (verify-full with Node's CAs), or a mode and the CA bundle to verify with. */
const postgresTlsSchema = z.union([
  z.boolean(),
  z
    .object({
      mode: z.enum(['require', 'verify-ca', 'verify-full']).default('verify-full'),
      /**
       * PEM file of the CAs that may sign the server's certificate, instead of Node's default list: Amazon
       * RDS's global bundle, or in Lambda the runtime's own Amazon CA file (LAMBDA_CA_FILE).
       */
      caFile: z.string().min(1).optional(),
    })
    .strict(),
]);

/**
 * The Amazon CA certificates the Lambda Node.js runtimes carry but no longer load by default (Lambda
 * Developer Guide, "Building Lambda functions with Node.js"); a path inside Lambda, not on this machine.
 */
export const LAMBDA_CA_FILE = '/var/runtime/ca-cert.pem';

export const postgresSchema = z
  .object({
    url: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Read the password from this file instead of the configuration. */
    passwordFile: z.string().optional(),
    /** Unset: the url's sslmode, else verify-full. */
    ssl: postgresTlsSchema.optional(),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    statementTimeoutMs: z.number().int().positive().default(600_000),
  })
  .strict()
  .refine((p) => p.url !== undefined || (p.host !== undefined && p.database !== undefined), {
    message: 'set either url, or host and database',
  });

export const s3Schema = z
  .object({
    bucket: z.string().min(3),
    region: z.string().min(1).default('us-east-1'),
    prefix: z.string().default('tally'),
    endpoint: z.url().optional(),
    forcePathStyle: z.boolean().default(false),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
    /** SSE-KMS key id; without it objects are encrypted with SSE-S3 (AES256). */
    kmsKeyId: z.string().optional(),
    /** An Object Lock retention for each mirrored audit event; the bucket must have Object Lock enabled. */
    auditRetention: z
      .object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: z.number().int().min(1) })
      .strict()
      .optional(),
  })
  .strict();

export const snowflakeSchema = z
  .object({
    account: z.string().min(1),
    username: z.string().min(1),
    password: z.string().optional(),
    privateKey: z.string().optional(),
    privateKeyFile: z.string().optional(),
    /** Only for a stand-in or a private link: where the driver connects instead of the account's URL. */
    accessUrl: z.url().optional(),
    database: identifier,
    schema: identifier.default('PUBLIC'),
    warehouse: identifier.optional(),
    role: identifier.optional(),
    stage: identifier.default('TALLY_STAGE'),
    fileFormat: identifier.default('TALLY_CSV'),
    auditTable: identifier.default('TALLY_AUDIT_LOG'),
    storageIntegration: identifier.optional(),
    /**
     * Snowflake's STATEMENT_TIMEOUT_IN_SECONDS for Tally's sessions. At most, and by default, the longest
     * step's Lambda timeout less its margin (875 s); a larger value is lowered to that, so that no statement
     * outlives the step that waits for it (`sessionStatementTimeout`).
     */
    statementTimeoutSeconds: z.number().int().positive().optional(),
  })
  .strict()
  .refine((s) => s.password !== undefined || s.privateKey !== undefined || s.privateKeyFile !== undefined, {
    message: 'set password, privateKey or privateKeyFile',
  });

export const pipelineSchema = z
  .object({
    /** How far below the last verified watermark an incremental window starts. */
    lookbackSeconds: z.number().int().min(0).default(300),
    /** How far an incremental window's upper bound lags behind the source's clock. */
    lagSeconds: z.number().int().min(0).default(60),
    maxFileBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(128 * 1024 * 1024),
    gzipLevel: z.number().int().min(1).max(9).default(6),
    /**
     * A historical load of a table with more rows than this (PostgreSQL's estimate) is split into
     * primary-key ranges of about this many rows, each exported in a Lambda of its own. The default, at
     * the roughly 250,000 rows a second one export stream moves, keeps a chunk's export near 10 s of the
     * step's 15 minutes, with room for rows much wider than the benchmark's.
     */
    chunkRows: z.number().int().min(1).max(1_000_000_000).default(2_000_000),
    /** How many chunks of one table export at once (the Distributed Map's MaxConcurrency). */
    chunkConcurrency: z.number().int().min(1).max(1000).default(8),
    /**
     * What an incremental run does with a table that has no verified window yet: 'refuse' fails it with
     * NoWatermarkError (its historical load comes first: a whole table does not fit one Lambda's time),
     * 'whole-table' exports the whole table as its first window.
     */
    firstIncremental: z.enum(['refuse', 'whole-table']).default('refuse'),
    /**
     * What an incremental window with zero rows, or fewer than `minRatio` × the median of the table's
     * last `history` verified windows, does: 'warn' records it on the success row, 'alert' fails the table.
     */
    volumeGuard: z
      .object({
        mode: z.enum(['warn', 'alert', 'off']).default('warn'),
        history: z.number().int().min(1).default(10),
        minRatio: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .default({ mode: 'warn', history: 10, minRatio: 0.1 }),
  })
  .strict();

export const configSchema = z
  .object({
    tables: z.array(tableSchema).min(1),
    postgres: postgresSchema,
    s3: s3Schema,
    snowflake: snowflakeSchema,
    pipeline: pipelineSchema.default(() => pipelineSchema.parse({})),
  })
  .strict();

export type TallyConfig = z.infer<typeof configSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
export type PostgresConfig = z.infer<typeof postgresSchema>;
export type S3Config = z.infer<typeof s3Schema>;
export type SnowflakeConfig = z.infer<typeof snowflakeSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;

/** Formats zod issues as `path: problem` lines so the message names each wrong setting. */
export function describeIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .map((i) => {
      const path = [root, ...i.path.map(String)].filter((p) => p !== '').join('.');
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('; ');
}

export function parseConfig(value: unknown, origin = 'configuration'): TallyConfig {
  const result = configSchema.safeParse(value);
  if (!result.success) throw new InvalidConfigError(`invalid ${origin}: ${describeIssues(result.error)}`);
  const names = new Set<string>();
  const targets = new Map<string, string>();
  for (const t of result.data.tables) {
    const key = `${t.schema}.${t.name}`;
    if (names.has(key)) throw new InvalidConfigError(`invalid ${origin}: tables: ${key} is listed twice`);
    names.add(key);
    // Snowflake folds an unquoted name to upper case, and Tally's target names are plain identifiers.
    const target = targetNameOf(t).toUpperCase();
    const other = targets.get(target);
    if (other !== undefined) {
      throw new InvalidConfigError(
        `invalid ${origin}: tables: ${other} and ${key} would both load into ${target}; give one a targetName`,
      );
    }
    targets.set(target, key);
  }
  return result.data;
}

/** The TLS a PostgreSQL connection uses, resolved from `ssl` and the url's `sslmode`. */
export interface PostgresTls {
  readonly mode: PostgresTlsMode;
  readonly caFile?: string;
}

/** Where PostgreSQL is and who signs in: the url's parts (if any), overridden by the separate settings. */
export interface ResolvedPostgres {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly ssl: PostgresTls;
}

export function resolvePostgres(config: PostgresConfig): ResolvedPostgres {
  let fromUrl: Partial<ResolvedPostgres> = {};
  if (config.url !== undefined) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new InvalidConfigError('postgres.url is not a valid URL: use postgres://user@host:port/database');
    }
    const sslmode = url.searchParams.get('sslmode');
    fromUrl = {
      host: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 5432 : Number(url.port),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')),
      user: url.username === '' ? undefined : decodeURIComponent(url.username),
      password: url.password === '' ? undefined : decodeURIComponent(url.password),
      ...(sslmode !== null ? { ssl: { mode: tlsModeOf(sslmode) } } : {}),
    };
  }
  const host = config.host ?? fromUrl.host;
  const database = config.database ?? fromUrl.database;
  if (!host || !database) throw new InvalidConfigError('postgres: set either url, or host and database');
  return {
    host,
    database,
    port: config.host !== undefined ? config.port : (fromUrl.port ?? config.port),
    user: config.user ?? fromUrl.user,
    password: config.password ?? fromUrl.password,
    ssl: resolveTls(config.ssl, fromUrl.ssl),
  };
}

/** `ssl` wins over the url's sslmode; with neither, the certificate is verified (verify-full). */
function resolveTls(setting: PostgresConfig['ssl'], fromUrl: PostgresTls | undefined): PostgresTls {
  if (setting === false) return { mode: 'disable' };
  if (setting === true) return { mode: 'verify-full' };
  if (setting !== undefined) return setting;
  return fromUrl ?? { mode: 'verify-full' };
}

function tlsModeOf(sslmode: string): PostgresTlsMode {
  if ((POSTGRES_TLS_MODES as readonly string[]).includes(sslmode)) return sslmode as PostgresTlsMode;
  if (sslmode === 'allow' || sslmode === 'prefer') {
    throw new InvalidConfigError(
      `postgres.url: sslmode=${sslmode} falls back to an unencrypted connection without saying so: use sslmode=verify-full, verify-ca or require, or sslmode=disable on a trusted network`,
    );
  }
  throw new InvalidConfigError(
    `postgres.url: sslmode=${sslmode} is not one of ${POSTGRES_TLS_MODES.join(', ')}`,
  );
}

/** The `ssl` setting that gives `tls`: what a configuration written for elsewhere (a Lambda) holds. */
export function postgresTlsSetting(tls: PostgresTls): NonNullable<PostgresConfig['ssl']> {
  if (tls.mode === 'disable') return false;
  return { mode: tls.mode, ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}) };
}
