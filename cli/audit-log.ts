// The audit log as the command line reads and shows it: the configured warehouse's audit table, oldest
// event first, as an aligned table of the columns a person looks at first.
import type { TallyConfig } from '../lambdas/config';
import { type AuditEvent, oldestFirst } from '../lambdas/domain/audit';
import type { AuditFilter } from '../lambdas/ports';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { formatTable, seconds } from './common';

export async function readAudit(config: TallyConfig, filter: AuditFilter = {}): Promise<AuditEvent[]> {
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  try {
    return [...(await warehouse.audit.read(filter))].sort(oldestFirst);
  } finally {
    await warehouse.close();
  }
}

export function auditTable(events: readonly AuditEvent[]): string {
  return formatTable(
    ['job', 'table', 'event', 'count before', 'count after', 'duration', 'status'],
    events.map((e) => [
      e.jobId,
      e.sourceTable ?? '',
      e.eventType,
      e.recordCountBefore,
      e.recordCountAfter,
      e.durationMs === null ? '' : seconds(e.durationMs),
      e.status,
    ]),
  );
}
