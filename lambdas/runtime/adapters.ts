// The real systems behind the ports, the same in AWS and locally: PostgreSQL, S3 and Snowflake.
import { PostgresSource } from '../adapters/postgres';
import { S3Stage } from '../adapters/s3';
import { SnowflakeWarehouse } from '../adapters/snowflake';
import type { PortFactories } from './ports';

export const ADAPTERS: PortFactories = {
  source: (config) => new PostgresSource(config.postgres),
  stage: (config) => new S3Stage(config.s3),
  warehouse: (config) => new SnowflakeWarehouse(config.snowflake, config.s3),
};
