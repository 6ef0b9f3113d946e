// Where OpenLineage events go, found as the OpenLineage clients find it: Tally's own `lineage.transport`
// first (as a client's constructor argument), then the YAML file OPENLINEAGE_CONFIG names (or
// openlineage.yml in the working directory, or in ~/.openlineage/), then OPENLINEAGE_URL with
// OPENLINEAGE_ENDPOINT and OPENLINEAGE_API_KEY. Read once, at start: a bad setting fails there, naming it.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  describeIssues,
  type LineageTransportConfig,
  lineageSchema,
  lineageTransportSchema,
  type TallyConfig,
} from '../config';
import { InvalidConfigError } from '../domain/errors';

/** The OpenLineage clients' environment variables. */
export const OPENLINEAGE_ENV = {
  config: 'OPENLINEAGE_CONFIG',
  url: 'OPENLINEAGE_URL',
  endpoint: 'OPENLINEAGE_ENDPOINT',
  apiKey: 'OPENLINEAGE_API_KEY',
  disabled: 'OPENLINEAGE_DISABLED',
} as const;

export interface LineageSettings {
  readonly namespace: string;
  readonly producer: string;
  readonly pendingLimit: number;
  readonly transport: LineageTransportConfig;
  /** Where the transport was configured, for messages. */
  readonly origin: string;
}

export interface LineageLookup {
  /** @default the process's working directory */
  readonly cwd?: string;
  /** @default the user's home directory */
  readonly home?: string;
}

/** The lineage settings in force, or null when nothing asks for lineage events. */
export function resolveLineageSettings(
  config: TallyConfig,
  env: NodeJS.ProcessEnv,
  lookup: LineageLookup = {},
): LineageSettings | null {
  const own = config.lineage ?? lineageSchema.parse({});
  if (!own.enabled || isTrue(env[OPENLINEAGE_ENV.disabled])) return null;
  const common = { namespace: own.namespace, producer: own.producer, pendingLimit: own.pendingLimit };
  if (own.transport) return { ...common, transport: own.transport, origin: 'lineage.transport' };
  const file = configFile(env, lookup);
  if (file) return { ...common, transport: readYamlTransport(file), origin: file };
  const url = nonEmpty(env[OPENLINEAGE_ENV.url]);
  if (url === undefined) return null;
  const apiKey = nonEmpty(env[OPENLINEAGE_ENV.apiKey]);
  const endpoint = nonEmpty(env[OPENLINEAGE_ENV.endpoint]);
  const parsed = lineageTransportSchema.safeParse({
    type: 'http',
    url,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
  });
  if (!parsed.success) {
    // Names the variable; the issue of a key is never its value.
    const issues = parsed.error.issues.map((i) => `${envOf(String(i.path[0]))}: ${i.message}`);
    throw new InvalidConfigError(`invalid OpenLineage environment: ${issues.join('; ')}`);
  }
  return { ...common, transport: parsed.data, origin: OPENLINEAGE_ENV.url };
}

function envOf(field: string): string {
  if (field === 'endpoint') return OPENLINEAGE_ENV.endpoint;
  if (field === 'apiKey') return OPENLINEAGE_ENV.apiKey;
  return OPENLINEAGE_ENV.url;
}

/** The YAML file in force: OPENLINEAGE_CONFIG's (which must exist), else openlineage.yml where clients look. */
function configFile(env: NodeJS.ProcessEnv, lookup: LineageLookup): string | undefined {
  const named = nonEmpty(env[OPENLINEAGE_ENV.config]);
  if (named !== undefined) {
    const path = resolve(lookup.cwd ?? process.cwd(), named);
    if (!existsSync(path)) {
      throw new InvalidConfigError(`${OPENLINEAGE_ENV.config} names ${path}, which does not exist`);
    }
    return path;
  }
  const candidates = [
    join(lookup.cwd ?? process.cwd(), 'openlineage.yml'),
    join(lookup.home ?? homedir(), '.openlineage', 'openlineage.yml'),
  ];
  return candidates.find((p) => existsSync(p));
}

/** The `transport` section of an openlineage.yml, in the clients' own keys. */
const yamlTransportSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('http'),
      url: z.string(),
      endpoint: z.string().optional(),
      /** Seconds, as the Python client reads it. */
      timeout: z.number().positive().optional(),
      /** Milliseconds, as the Java client reads it. */
      timeoutInMillis: z.number().int().positive().optional(),
      auth: z
        .object({
          type: z.literal('api_key'),
          apiKey: z.string().min(1).optional(),
          api_key: z.string().min(1).optional(),
        })
        .strict()
        .refine((a) => (a.apiKey ?? a.api_key) !== undefined, { message: 'an api_key auth needs apiKey' })
        .optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('file'),
      log_file_path: z.string().min(1),
      append: z.boolean().optional(),
    })
    .strict(),
  z.object({ type: z.literal('console') }).strict(),
]);

/**
 * Reads the file's `transport`; the other sections a client may read (facets, filters, tags) are not
 * Tally's to act on and are left alone. A transport Tally does not speak is refused by name.
 */
function readYamlTransport(path: string): LineageTransportConfig {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidConfigError(
      `OpenLineage configuration ${path} cannot be read as YAML: ${(err as Error).message}`,
    );
  }
  const transport = (doc as { transport?: unknown } | null)?.transport;
  const type = (transport as { type?: unknown } | undefined)?.type;
  if (typeof type === 'string' && !['http', 'file', 'console'].includes(type)) {
    throw new InvalidConfigError(
      `OpenLineage configuration ${path}: transport.type '${type}' is not one Tally sends with (http, file, console)`,
    );
  }
  const read = yamlTransportSchema.safeParse(transport);
  if (!read.success) {
    throw new InvalidConfigError(
      `invalid OpenLineage configuration ${path}: ${describeIssues(read.error, 'transport')}`,
    );
  }
  const t = read.data;
  const asTally =
    t.type === 'http'
      ? {
          type: 'http',
          url: t.url,
          ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}),
          ...(t.timeoutInMillis !== undefined
            ? { timeoutMs: t.timeoutInMillis }
            : t.timeout !== undefined
              ? { timeoutMs: Math.round(t.timeout * 1000) }
              : {}),
          ...(t.auth ? { apiKey: t.auth.apiKey ?? t.auth.api_key } : {}),
        }
      : t.type === 'file'
        ? {
            type: 'file',
            logFilePath: isAbsolute(t.log_file_path)
              ? t.log_file_path
              : resolve(dirname(path), t.log_file_path),
            ...(t.append !== undefined ? { append: t.append } : {}),
          }
        : { type: 'console' };
  const checked = lineageTransportSchema.safeParse(asTally);
  if (!checked.success) {
    throw new InvalidConfigError(
      `invalid OpenLineage configuration ${path}: ${describeIssues(checked.error, 'transport')}`,
    );
  }
  return checked.data;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes'].includes(value.trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}
