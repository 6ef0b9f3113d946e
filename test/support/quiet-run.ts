// The synthesized definition run locally as the pipeline tests run it: short retry waits, and no alert or
// progress printed (the verdict and the audit log say what happened).
import type { TallyConfig } from '../../lambdas/config';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { type RunPipelineOptions, runPipeline, type Verdict } from '../../local/runner';
import { auditLog } from './audit';

export function runQuietly(
  options: Pick<RunPipelineOptions, 'config' | 'input'> & Partial<RunPipelineOptions>,
): Promise<Verdict> {
  return runPipeline({
    retryIntervalMs: 10,
    printAlert: () => {},
    logger: { info: () => {}, warn: () => {} },
    ...options,
  });
}

/** The audit events one execution wrote, in chain order. */
export async function eventsOfExecution(config: TallyConfig, executionId: string): Promise<AuditEvent[]> {
  return (await auditLog(config)).filter((e) => e.executionId === executionId);
}
