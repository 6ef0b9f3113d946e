// The configuration that points Tally at the embedded defaults: what `local up --write-config` writes and
// what `run`, `demo` and `audit` use when no configuration file is given.
import { type PipelineConfig, parseConfig, type TableConfig, type TallyConfig } from '../../lambdas/config';
import type { StackInfo } from '../stack';
import { CliError } from './common';

interface SnowflakeInfo {
  readonly accessUrl: string;
  readonly account: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly schema?: string;
  readonly warehouse?: string;
  readonly role?: string;
}

export function localConfig(
  info: StackInfo,
  tables: readonly TableConfig[],
  pipeline: Partial<PipelineConfig> = {},
): TallyConfig {
  const snowflake = (info as StackInfo & { snowflake?: SnowflakeInfo }).snowflake;
  if (snowflake === undefined) {
    throw new CliError(
      'the embedded defaults include no Snowflake stand-in yet, so no full configuration exists',
    );
  }
  return parseConfig(
    {
      tables,
      postgres: { url: info.postgres.url },
      s3: {
        bucket: info.s3.bucket,
        region: info.s3.region,
        endpoint: info.s3.endpoint,
        forcePathStyle: info.s3.forcePathStyle,
        accessKeyId: info.s3.accessKeyId,
        secretAccessKey: info.s3.secretAccessKey,
      },
      snowflake: { ...snowflake },
      pipeline,
    },
    'configuration for the embedded defaults',
  );
}
