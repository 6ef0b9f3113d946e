// Tally's one configuration, shared by the command line, the Lambdas and the CDK app. It is parsed once
// against this schema; a bad setting fails at start with the setting's path in the message.
import { z } from 'zod';
import { CODECS, type Compression } from './domain/compression';
import { DELETE_MODES, parseDuration } from './domain/deletes';
import { InvalidConfigError } from './domain/errors';
import { targetNameOf } from './domain/table';

const identifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a plain identifier (letters, digits, _ and $)');

export const VALUE_CHECK_MODES = ['off', 'sampled', 'full'] as const;
export type ValueCheckMode = (typeof VALUE_CHECK_MODES)[number];

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
    /**
     * What VerifyValues compares after the counts close (`domain/reconcile.ts`): every row ('full'), the rows
     * of a sample of key segments ('sampled'), or nothing ('off'). Unset: 'full' for a job of up to
     * `pipeline.valueCheck.fullUpToRows` rows, 'sampled' beyond.
     */
    verifyValues: z.enum(VALUE_CHECK_MODES).optional(),
    /**
     * What the incremental pipeline's delete check (CheckDeletes, `domain/deletes.ts`) does with keys the
     * target holds and the source no longer does: nothing ('off'), list them on a `deletes` audit event
     * ('report'), mark them in the target's `_TALLY_DELETED_AT` column ('soft'), or delete them from the
     * target ('propagate'). Unset: 'off'.
     */
    deletes: z.enum(DELETE_MODES).optional(),
    /**
     * How often the delete check runs, as an ISO 8601 duration (`P1D`, `PT6H`); `PT0S`: every run. Unset:
     * DEFAULT_DELETE_CHECK_EVERY.
     */
    deleteCheckEvery: z
      .string()
      .optional()
      .superRefine((text, ctx) => {
        if (text === undefined) return;
        try {
          parseDuration(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
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

const levelOf = (codec: keyof typeof CODECS) =>
  z
    .number()
    .int()
    .min(
      CODECS[codec].minLevel,
      `${codec} levels run from ${CODECS[codec].minLevel} to ${CODECS[codec].maxLevel}`,
    )
    .max(
      CODECS[codec].maxLevel,
      `${codec} levels run from ${CODECS[codec].minLevel} to ${CODECS[codec].maxLevel}`,
    )
    .default(CODECS[codec].defaultLevel);

const compressionSchema = z.discriminatedUnion('codec', [
  z.object({ codec: z.literal('gzip'), level: levelOf('gzip') }).strict(),
  z.object({ codec: z.literal('zstd'), level: levelOf('zstd') }).strict(),
]);

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
    /**
     * How part files are compressed: `codec` gzip (levels 1 to 9) or zstd (1 to 19, on Node 22.15 and
     * later, as the Lambda runtime is). The level defaults to the codec's own default. Unset: zstd 1 where
     * the runtime has zstd, else gzip 6 (DEFAULT_COMPRESSION, FALLBACK_COMPRESSION).
     */
    compression: compressionSchema.optional(),
    /** The older form of `compression: { codec: 'gzip', level }`, still read; not together with it. */
    gzipLevel: z.number().int().min(CODECS.gzip.minLevel).max(CODECS.gzip.maxLevel).optional(),
    /**
     * A historical load of a table with more rows than this (PostgreSQL's estimate) is split into ranges
     * of the leading primary-key column of about this many rows (from the column's statistics), each
     * exported and loaded in Lambdas of its own. The default, at
     * the roughly 250,000 rows a second one export stream moves, keeps a chunk's export near 10 s of the
     * step's 15 minutes, with room for rows much wider than the benchmark's.
     */
    chunkRows: z.number().int().min(1).max(1_000_000_000).default(2_000_000),
    /** How many chunks of one table export, and then load, at once (the Distributed Maps' MaxConcurrency). */
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
    /**
     * VerifyValues for a table that does not set `verifyValues`: every row of a job of up to `fullUpToRows`
     * rows is compared, and of a larger one the rows of `sampleFraction` of the key segments (chosen anew
     * by each job).
     */
    valueCheck: z
      .object({
        fullUpToRows: z.number().int().min(0).default(1_000_000),
        sampleFraction: z
          .number()
          .gt(0)
          .max(1)
          .default(1 / 16),
      })
      .strict()
      .default({ fullUpToRows: 1_000_000, sampleFraction: 1 / 16 }),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.gzipLevel !== undefined && p.compression !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gzipLevel'],
        message:
          'set either gzipLevel (the older form) or compression, not both: write compression: { "codec": "gzip", "level": N } instead of gzipLevel',
      });
    }
  })
  .transform(({ gzipLevel, compression, ...rest }) => ({
    ...rest,
    // Unset stays unset: the default depends on the runtime that exports (resolveCompression).
    compression: (compression ??
      (gzipLevel === undefined ? undefined : { codec: 'gzip', level: gzipLevel })) as Compression | undefined,
  }));

/** How long one lineage event may take to send before Tally gives up on it for this run (keeps it for the next). */
export const LINEAGE_TIMEOUT_MS = 5000;
/** The most a send may be given: a step waits for it, after its audit events are written. */
export const LINEAGE_MAX_TIMEOUT_MS = 30_000;

/**
 * Where OpenLineage events go, as the OpenLineage clients' transports: `http` POSTs each event to
 * `url` + `endpoint`, with `apiKey` as a Bearer token; `file` writes each event to `<logFilePath>-<time>.json`,
 * or appends it as one JSON line to `logFilePath` with `append`; `console` prints it on standard output.
 */
export const lineageTransportSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('http'),
      url: z.url({ protocol: /^https?$/ }),
      endpoint: z.string().default('api/v1/lineage'),
      /** A Bearer token; never logged. Prefer OPENLINEAGE_API_KEY, or in AWS `apiKeySecret`. */
      apiKey: z.string().min(1).optional(),
      /** In AWS: the Secrets Manager secret (name or ARN) whose value, or whose JSON `apiKey`, is the token. */
      apiKeySecret: z.string().min(1).optional(),
      timeoutMs: z.number().int().positive().max(LINEAGE_MAX_TIMEOUT_MS).default(LINEAGE_TIMEOUT_MS),
    })
    .strict()
    .refine((t) => t.apiKey === undefined || t.apiKeySecret === undefined, {
      message: 'set apiKey or apiKeySecret, not both',
    }),
  z
    .object({ type: z.literal('file'), logFilePath: z.string().min(1), append: z.boolean().default(false) })
    .strict(),
  z.object({ type: z.literal('console') }).strict(),
]);

export const lineageSchema = z
  .object({
    /** false: no lineage event is sent, whatever the environment says. */
    enabled: z.boolean().default(true),
    /** The jobs' namespace: a table's job is `<namespace>/<pipeline>.<schema>.<table>`. */
    namespace: z.string().min(1).default('tally'),
    /** The `producer` URI every event and facet carries. */
    producer: z.url().default('urn:tally'),
    /** Unset: the OpenLineage client's own settings (OPENLINEAGE_CONFIG, openlineage.yml, OPENLINEAGE_URL). */
    transport: lineageTransportSchema.optional(),
    /** Undelivered events kept in the stage for the next run; beyond it the oldest are dropped, with a warning. */
    pendingLimit: z.number().int().min(1).max(100_000).default(1000),
  })
  .strict();
/**
 * The audit chain's checkpoints (`lambdas/audit/anchor.ts`): written once under the audit mirror every
 * `checkpointEvery` delivered events and whenever a table's run ends; signed with HMAC-SHA256 when a key
 * is given, inline (`checkpointKey`, e.g. filled from a secret) or as a file (`checkpointKeyFile`).
 */
export const auditSchema = z
  .object({
    checkpointEvery: z.number().int().min(1).max(1000).default(100),
    checkpointKey: z.string().min(32, 'must be at least 32 characters').optional(),
    checkpointKeyFile: z.string().min(1).optional(),
    /**
     * Keys checkpoints were signed with before the current one: verification accepts a checkpoint signed
     * with the current key or any of these, so a rotation leaves earlier checkpoints verifiable. Only the
     * current key signs.
     */
    previousCheckpointKeys: z.array(z.string().min(32, 'must be at least 32 characters')).default([]),
  })
  .strict()
  .refine((a) => a.checkpointKey === undefined || a.checkpointKeyFile === undefined, {
    message: 'set checkpointKey or checkpointKeyFile, not both',
  })
  .refine(
    (a) =>
      a.previousCheckpointKeys.length === 0 ||
      a.checkpointKey !== undefined ||
      a.checkpointKeyFile !== undefined,
    {
      message: 'previousCheckpointKeys needs the current key too (checkpointKey or checkpointKeyFile)',
      path: ['previousCheckpointKeys'],
    },
  );

export const configSchema = z
  .object({
    tables: z.array(tableSchema).min(1),
    postgres: postgresSchema,
    s3: s3Schema,
    snowflake: snowflakeSchema,
    pipeline: pipelineSchema.default(() => pipelineSchema.parse({})),
    lineage: lineageSchema.optional(),
    audit: auditSchema.default(() => auditSchema.parse({})),
  })
  .strict();

export type TallyConfig = z.infer<typeof configSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
export type PostgresConfig = z.infer<typeof postgresSchema>;
export type S3Config = z.infer<typeof s3Schema>;
export type SnowflakeConfig = z.infer<typeof snowflakeSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type LineageConfig = z.infer<typeof lineageSchema>;
export type LineageTransportConfig = z.infer<typeof lineageTransportSchema>;
export type AuditConfig = z.infer<typeof auditSchema>;
/** A pipeline configuration as written (what `pipelineSchema` parses). */
export type PipelineSettings = z.input<typeof pipelineSchema>;

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
