// The audit log a test reads back after a run: the configured warehouse's audit table in the order its
// hash chain links it; and a configuration whose audit log is a test file's own.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { PipelineConfig, TableConfig, TallyConfig } from '../../lambdas/config';
import { type AuditEvent, chainOrder } from '../../lambdas/domain/audit';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { localConfig } from '../../local/local-config';

/**
 * The embedded stack's configuration for one table, with an S3 prefix and a Snowflake schema of this
 * run's own (`<tag>-<hex>`, `<TAG>_<HEX>`), so the audit log starts empty.
 */
export function ownAuditConfig(tag: string): TallyConfig {
  const run = randomBytes(3).toString('hex');
  const base = localConfig(inject('stack'), [
    { schema: 'public', name: 'orders', primaryKey: ['id'], cursorColumn: 'updated_at' },
  ]);
  return {
    ...base,
    s3: { ...base.s3, prefix: `${tag}-${run}` },
    snowflake: {
      ...base.snowflake,
      schema: `${tag.replaceAll('-', '_').toUpperCase()}_${run.toUpperCase()}`,
    },
  };
}

/**
 * The embedded stack's configuration for `tables` in a PostgreSQL database of the test's own (`url`),
 * with the S3 prefix `label` and the Snowflake schema `LABEL`, so the target and the audit log start empty.
 */
export function ownDatabaseConfig(
  label: string,
  url: string,
  tables: readonly TableConfig[],
  pipeline: Partial<PipelineConfig> = {},
): TallyConfig {
  const base = localConfig(inject('stack'), tables, pipeline);
  return {
    ...base,
    postgres: { ...base.postgres, url },
    s3: { ...base.s3, prefix: label },
    snowflake: { ...base.snowflake, schema: label.toUpperCase() },
  };
}

export async function auditLog(config: TallyConfig): Promise<AuditEvent[]> {
  const { audit, close } = LOCAL_ADAPTERS.warehouse(config);
  try {
    return chainOrder(await audit.read());
  } finally {
    await close();
  }
}
