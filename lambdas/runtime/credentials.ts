// Puts credentials fetched from Secrets Manager into the configuration. Secret values never reach a log,
// an error message or an audit row: errors name the secret's field, never its value.
import { z } from 'zod';
import { describeIssues, type TallyConfig } from '../config';
import { InvalidConfigError } from '../domain/errors';
import { FROM_SECRET } from './env';

/** The shape RDS and most tools store PostgreSQL credentials in. */
const postgresSecretSchema = z.looseObject({
  username: z.string().min(1).optional(),
  password: z.string().min(1),
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().min(1).max(65535).optional(),
  dbname: z.string().min(1).optional(),
});

const snowflakeSecretSchema = z
  .looseObject({
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
  })
  .refine((s) => s.password !== undefined || s.privateKey !== undefined, {
    message: 'set password or privateKey',
  });

/**
 * The audit checkpoints' HMAC key: `key` signs, `previousKeys` (the keys it replaced, newest first) still
 * verify the checkpoints they signed. A rotation puts a new `key` and moves the old one into `previousKeys`.
 */
const checkpointSecretSchema = z.looseObject({
  key: z.string().min(32, 'must be at least 32 characters'),
  previousKeys: z.array(z.string().min(32, 'must be at least 32 characters')).optional(),
});

export interface Secrets {
  readonly postgres?: unknown;
  readonly snowflake?: unknown;
  /** The checkpoint key's secret (see `checkpointSecretSchema`). */
  readonly checkpoint?: unknown;
}

export function applySecrets(config: TallyConfig, secrets: Secrets): TallyConfig {
  let next = config;
  if (secrets.postgres !== undefined) {
    const s = parse(postgresSecretSchema, secrets.postgres, 'PostgreSQL secret');
    next = {
      ...next,
      postgres: {
        ...next.postgres,
        // A url would override host and password: the secret is the source of truth here.
        url: undefined,
        host: s.host ?? next.postgres.host,
        port: s.port ?? next.postgres.port,
        database: s.dbname ?? next.postgres.database,
        user: s.username ?? next.postgres.user,
        password: s.password,
      },
    };
  }
  if (secrets.snowflake !== undefined) {
    const s = parse(snowflakeSecretSchema, secrets.snowflake, 'Snowflake secret');
    const { password: configured, ...rest } = next.snowflake;
    const password = s.password ?? (configured === FROM_SECRET ? undefined : configured);
    next = {
      ...next,
      snowflake: {
        ...rest,
        username: s.username ?? rest.username,
        ...(password !== undefined ? { password } : {}),
        ...(s.privateKey !== undefined ? { privateKey: s.privateKey } : {}),
      },
    };
  }
  if (secrets.checkpoint !== undefined) {
    const s = parse(checkpointSecretSchema, secrets.checkpoint, 'checkpoint key secret');
    // The secret replaces whatever key the configuration names: in AWS it is the one source of the key.
    const { checkpointKeyFile: _file, ...audit } = next.audit;
    next = {
      ...next,
      audit: { ...audit, checkpointKey: s.key, previousCheckpointKeys: s.previousKeys ?? [] },
    };
  }
  return next;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  // zod's messages describe the expected type, never the value, so they are safe to show.
  if (!result.success)
    throw new InvalidConfigError(`${what} is not usable: ${describeIssues(result.error, what)}`);
  return result.data;
}
