// The audit log as the command line reads and shows it: the configured warehouse's audit table, oldest
// event first, as an aligned table of the columns a person looks at first; and its verification.
import { S3Stage } from '../lambdas/adapters/s3';
import { type VerifyOptions, type VerifyResult, verifyAuditChain } from '../lambdas/audit/verify';
import type { TallyConfig } from '../lambdas/config';
import { type AuditEvent, oldestFirst } from '../lambdas/domain/audit';
import type { AuditFilter } from '../lambdas/ports';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { formatTable, seconds } from './common';

export type { AuditBreak, VerifyOptions, VerifyResult } from '../lambdas/audit/verify';

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

/** What `tally audit verify` prints: a few lines a person reads, the break first when there is one. */
export function verificationReport(result: VerifyResult): string {
  const start =
    result.start.from === 'genesis' ? "the chain's first event" : `checkpoint ${result.start.checkpoint}`;
  const lines: string[] = [];
  if (result.break) {
    const b = result.break;
    lines.push(`BROKEN: ${b.kind} event ${b.eventId ?? '(none: a checkpoint)'}`);
    lines.push(`  ${b.detail}`);
    if (b.columns.length > 0) lines.push(`  columns: ${b.columns.join(', ')}`);
    lines.push(
      `  found by: ${b.witnesses.join(', ')}${b.checkpoint !== null ? ` (checkpoint ${b.checkpoint})` : ''}`,
    );
  } else {
    lines.push('intact');
  }
  lines.push(
    `checked ${result.checked} event(s) from ${start}, against ${result.checkpoints} checkpoint(s)${result.signed ? ' (HMAC checked)' : ''}`,
  );
  if (result.head) lines.push(`head: ${result.head.eventId} ${result.head.rowHash}`);
  if (result.verifiedCheckpoint !== null)
    lines.push(`last verified checkpoint: ${result.verifiedCheckpoint}`);
  if (result.unanchored > 0)
    lines.push(`${result.unanchored} delivered event(s) not yet anchored by a checkpoint`);
  if (result.pending > 0) lines.push(`${result.pending} event(s) waiting in S3 for delivery, not checked`);
  return lines.join('\n');
}
