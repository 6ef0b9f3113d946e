// The audit log a test reads back after a run: the configured warehouse's audit table in the order its
// hash chain links it.
import type { TallyConfig } from '../../lambdas/config';
import { type AuditEvent, chainOrder } from '../../lambdas/domain/audit';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';

export async function auditLog(config: TallyConfig): Promise<AuditEvent[]> {
  const { audit, close } = LOCAL_ADAPTERS.warehouse(config);
  try {
    return chainOrder(await audit.read());
  } finally {
    await close();
  }
}
