// What a Lambda reads from its environment, read once at cold start: the configuration as JSON and,
// in AWS, the Secrets Manager secrets that hold the credentials it leaves out.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, type TallyConfig } from '../config';
import { InvalidConfigError } from '../domain/errors';
import { type LineageSettings, resolveLineageSettings } from './lineage-settings';

/** Environment variable names, shared with the CDK construct that sets them. */
export const ENV = {
  /** Which entry of the step registry this function runs. */
  step: 'TALLY_STEP',
  config: 'TALLY_CONFIG_JSON',
  /**
   * A file of the function's bundle holding more of the configuration (the tables, Snowflake and the
   * pipeline settings), read at cold start and merged under TALLY_CONFIG_JSON's keys.
   */
  configFile: 'TALLY_CONFIG_FILE',
  postgresSecretArn: 'TALLY_POSTGRES_SECRET_ARN',
  snowflakeSecretArn: 'TALLY_SNOWFLAKE_SECRET_ARN',
  /**
   * The secret holding the audit checkpoints' HMAC key, `{ "key": "...", "previousKeys": [...] }`: read by
   * the functions that write audit events (and so checkpoints) and by the audit verification.
   */
  checkpointSecretArn: 'TALLY_CHECKPOINT_SECRET_ARN',
  /** The alert topic the daily audit verification publishes a break to. */
  alertTopicArn: 'TALLY_ALERT_TOPIC_ARN',
} as const;

/** The name of the bundled configuration file, beside the function's code. */
export const CONFIG_FILE_NAME = 'tally-config.json';

export interface RuntimeSettings {
  readonly config: TallyConfig;
  /** Where OpenLineage events go (OpenLineage's own variables or file, or `lineage`); null for nowhere. */
  readonly lineage?: LineageSettings | null;
  readonly postgresSecretArn?: string;
  readonly snowflakeSecretArn?: string;
  readonly checkpointSecretArn?: string;
}

export interface SettingsOptions {
  /**
   * The step signs in to Snowflake. One that does not (the alert's) needs no Snowflake credential in
   * its configuration, and in AWS is given no secret to read one from.
   * @default true
   */
  readonly signsInToWarehouse?: boolean;
  /**
   * Where a relative TALLY_CONFIG_FILE is found.
   * @default LAMBDA_TASK_ROOT, the folder Lambda unpacks the function's code into; else the working directory
   */
  readonly codeDir?: string;
}

/**
 * Parses the configuration; a bad one throws at cold start naming the setting. When the Snowflake
 * credentials come from a secret, the configuration need not hold any, and the secret fills them in
 * before the first connection (see `credentials.ts`).
 */
export function loadRuntimeSettings(
  env: NodeJS.ProcessEnv = process.env,
  options: SettingsOptions = {},
): RuntimeSettings {
  const raw = env[ENV.config];
  if (raw === undefined || raw.trim() === '') {
    throw new InvalidConfigError(`${ENV.config} is not set: it must hold Tally's configuration as JSON`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new InvalidConfigError(`${ENV.config} is not valid JSON: ${(err as Error).message}`);
  }
  const file = nonEmpty(env[ENV.configFile]);
  if (file !== undefined)
    json = { ...bundledConfig(file, options.codeDir ?? env.LAMBDA_TASK_ROOT), ...asObject(json) };
  const postgresSecretArn = nonEmpty(env[ENV.postgresSecretArn]);
  const snowflakeSecretArn = nonEmpty(env[ENV.snowflakeSecretArn]);
  const checkpointSecretArn = nonEmpty(env[ENV.checkpointSecretArn]);
  const config = parseConfig(
    snowflakeSecretArn
      ? withCredentialSlot(json, FROM_SECRET)
      : options.signsInToWarehouse === false
        ? withCredentialSlot(json, NOT_USED)
        : json,
    `configuration in ${ENV.config}`,
  );
  return {
    config,
    lineage: resolveLineageSettings(config, env, {
      cwd: options.codeDir ?? env.LAMBDA_TASK_ROOT ?? process.cwd(),
    }),
    ...(postgresSecretArn ? { postgresSecretArn } : {}),
    ...(snowflakeSecretArn ? { snowflakeSecretArn } : {}),
    ...(checkpointSecretArn ? { checkpointSecretArn } : {}),
  };
}

/** The configuration file of the bundle, as an object; a missing or unreadable one fails at cold start. */
function bundledConfig(file: string, codeDir: string | undefined): Record<string, unknown> {
  const path = resolve(codeDir ?? process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidConfigError(
      `${ENV.configFile} names ${path}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the function's bundle must carry it`,
    );
  }
  try {
    return asObject(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof InvalidConfigError) throw err;
    throw new InvalidConfigError(`${path} (${ENV.configFile}) is not valid JSON: ${(err as Error).message}`);
  }
}

function asObject(value: unknown, what: string = ENV.config): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidConfigError(`${what} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Marks the Snowflake credential as supplied by the secret, so validation does not demand one here. */
export const FROM_SECRET = '(from Secrets Manager)';

/** Marks the Snowflake credential as not needed by the step this function runs. */
const NOT_USED = '(not used by this step)';

function withCredentialSlot(json: unknown, marker: string): unknown {
  if (typeof json !== 'object' || json === null) return json;
  const snowflake = (json as { snowflake?: unknown }).snowflake;
  if (typeof snowflake !== 'object' || snowflake === null) return json;
  const s = snowflake as Record<string, unknown>;
  const hasCredential =
    s.password !== undefined || s.privateKey !== undefined || s.privateKeyFile !== undefined;
  return hasCredential ? json : { ...json, snowflake: { ...s, password: marker } };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
