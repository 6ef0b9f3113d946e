// The audit log as the command line reads and shows it: the configured warehouse's audit table, oldest
// event first, as an aligned table of the columns a person looks at first; and its verification.
import { S3Stage } from '../lambdas/adapters/s3';
import { type VerifyOptions, type VerifyResult, verifyAuditChain } from '../lambdas/audit/verify';
import type { TallyConfig } from '../lambdas/config';
import { type AuditEvent, oldestFirst } from '../lambdas/domain/audit';
import type { AuditFilter } from '../lambdas/ports';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { formatTable, seconds } from './common';

export {
  type AuditBreak,
  describeVerification as verificationReport,
  type VerifyOptions,
  type VerifyResult,
} from '../lambdas/audit/verify';

export async function readAudit(config: TallyConfig, filter: AuditFilter = {}): Promise<AuditEvent[]> {
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  try {
    return [...(await warehouse.audit.read(filter))].sort(oldestFirst);
  } finally {
    await warehouse.close();
  }
}

/**
 * Verifies the configured audit log against its S3 mirror and checkpoints (`tally audit verify`, and what
 * a report shows of the chain): intact, or the first event that breaks it.
 */
export async function verifyAudit(config: TallyConfig, options: VerifyOptions = {}): Promise<VerifyResult> {
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  try {
    return await verifyAuditChain(
      { config, ports: { audit: warehouse.audit, stage: new S3Stage(config.s3) }, now: () => new Date() },
      options,
    );
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
