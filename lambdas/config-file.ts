// Reads and writes Tally configuration files (JSON). Everything read is validated by the shared schema,
// so a bad file fails at once with a message naming the file and the wrong setting.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseConfig, type TallyConfig } from './config';
import { InvalidConfigError } from './domain/errors';

export async function loadConfigFile(path: string): Promise<TallyConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    throw new InvalidConfigError(`configuration file ${path} ${why}; pass an existing JSON file to --config`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidConfigError(`configuration file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return relativeToFile(parseConfig(value, `configuration file ${path}`), path);
}

/** Key, password and CA files named relative to the configuration file are found wherever Tally runs. */
function relativeToFile(config: TallyConfig, path: string): TallyConfig {
  const base = dirname(resolve(path));
  const fix = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(base, p));
  const { ssl } = config.postgres;
  return {
    ...config,
    postgres: {
      ...config.postgres,
      passwordFile: fix(config.postgres.passwordFile),
      ...(typeof ssl === 'object' && ssl.caFile !== undefined
        ? { ssl: { ...ssl, caFile: fix(ssl.caFile) } }
        : {}),
    },
    snowflake: { ...config.snowflake, privateKeyFile: fix(config.snowflake.privateKeyFile) },
    ...(config.lineage?.transport?.type === 'file'
      ? {
          lineage: {
            ...config.lineage,
            transport: {
              ...config.lineage.transport,
              logFilePath: fix(config.lineage.transport.logFilePath) as string,
            },
          },
        }
      : {}),
    audit: {
      ...config.audit,
      ...(config.audit.checkpointKeyFile !== undefined
        ? { checkpointKeyFile: fix(config.audit.checkpointKeyFile) }
        : {}),
    },
  };
}

/** Writes a configuration that `loadConfigFile` accepts; readable by its owner only, as it holds passwords. */
export async function writeConfigFile(path: string, config: TallyConfig): Promise<void> {
  const checked = parseConfig(config, 'configuration to write');
  await writeFile(path, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
}
