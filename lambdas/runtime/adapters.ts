// The real systems behind the ports, the same in AWS and locally: PostgreSQL, S3 and Snowflake. Whether a
// Snowflake connection outlives the adapter is the host's decision: a warm Lambda keeps it for its next
// invocation; the local runner and the command line close it, so their process can end. Either way its
// statements are held to the steps' timeouts, the registry's.
import { PostgresSource } from '../adapters/postgres';
import { S3Stage } from '../adapters/s3';
import { openSnowflake } from '../adapters/snowflake';
import { LONGEST_STEP_TIMEOUT_SECONDS } from '../steps/registry';
import type { PortFactories } from './lazy-ports';

export function adapters(options: { readonly keepWarm: boolean }): PortFactories {
  return {
    source: (config) => new PostgresSource(config.postgres),
    stage: (config) => new S3Stage(config.s3),
    warehouse: (config) =>
      openSnowflake(config.snowflake, config.s3, {
        keepWarm: options.keepWarm,
        longestStepSeconds: LONGEST_STEP_TIMEOUT_SECONDS,
      }),
  };
}

/** What a Lambda runs with: connections kept across warm invocations. */
export const LAMBDA_ADAPTERS = adapters({ keepWarm: true });

/** What a process that ends when its work is done runs with (the local runner, the command line). */
export const LOCAL_ADAPTERS = adapters({ keepWarm: false });
