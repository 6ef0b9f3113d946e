// Snowflake behind three ports: loading (`load.ts`), the audit table (`audit-table.ts`) and the lease
// store (`leases.ts`), all on one session (`session.ts`) whose connection the host keeps warm or closes.
import type { S3Config, SnowflakeConfig } from '../../config';
import type { WarehousePorts } from '../../ports';
import { SnowflakeAuditTable } from './audit-table';
import { SnowflakeLeaseStore } from './leases';
import { SnowflakeLoader } from './load';
import { SnowflakeSession, type SnowflakeSessionOptions } from './session';

export { closeSnowflakeConnections } from './session';

export function openSnowflake(
  config: SnowflakeConfig,
  s3: Pick<S3Config, 'bucket' | 'prefix'>,
  options: SnowflakeSessionOptions,
): WarehousePorts {
  const session = new SnowflakeSession(config, options);
  return {
    warehouse: new SnowflakeLoader(session, s3),
    audit: new SnowflakeAuditTable(session),
    leases: new SnowflakeLeaseStore(session),
    close: () => session.close(),
  };
}
