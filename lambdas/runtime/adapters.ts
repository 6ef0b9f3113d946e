// The real systems behind the ports, the same in AWS and locally: PostgreSQL, S3 and Snowflake.
import { PostgresSource } from '../adapters/postgres';
import { S3Stage } from '../adapters/s3';
import { WarehouseUnavailableError } from '../domain/errors';
import type { PortFactories } from './ports';

export const ADAPTERS: PortFactories = {
  source: (config) => new PostgresSource(config.postgres),
  stage: (config) => new S3Stage(config.s3),
  warehouse: () => {
    throw new WarehouseUnavailableError('the Snowflake adapter is not wired in yet');
  },
};
