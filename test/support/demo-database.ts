// A seeded demo database of a test file's own, with the configuration that transfers it into a Snowflake
// schema and S3 prefix of the same name: made before the file's tests, dropped after them.
import { afterAll, beforeAll, inject } from 'vitest';
import type { TallyConfig } from '../../lambdas/config';
import { DEMO_TABLES, seedDemo } from '../../local/demo-data';
import { localConfig } from '../../local/local-config';
import { freshDatabase, onDatabase } from './postgres';

/** Call once at the top of a test file; read `config` inside a test. */
export function demoDatabase(
  label: string,
  seed: { rows: number; seed: number },
): { readonly config: TallyConfig } {
  const stack = inject('stack');
  let config: TallyConfig | undefined;
  beforeAll(async () => {
    const url = await freshDatabase(label);
    await seedDemo(url, seed);
    const base = localConfig(stack, DEMO_TABLES, { lagSeconds: 0 });
    config = {
      ...base,
      postgres: { ...base.postgres, url },
      s3: { ...base.s3, prefix: label },
      snowflake: { ...base.snowflake, schema: label.toUpperCase() },
    };
  }, 120_000);
  afterAll(async () => {
    await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
  });
  return {
    get config() {
      if (!config) throw new Error('the demo database is made in beforeAll: use it inside a test');
      return config;
    },
  };
}
