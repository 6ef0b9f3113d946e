// The configuration that points Tally at the embedded defaults: what `local up --write-config` writes and
// what `run` and `demo` use when no configuration file is given.
import { type PipelineConfig, parseConfig, type TableConfig, type TallyConfig } from '../lambdas/config';
import type { StackInfo } from './stack';

export function localConfig(
  info: StackInfo,
  tables: readonly TableConfig[],
  pipeline: Partial<PipelineConfig> = {},
): TallyConfig {
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
      snowflake: { ...info.snowflake },
      pipeline,
    },
    'configuration for the embedded defaults',
  );
}
