// ComposeAlert: turns the run's state into the alert a person reads (see `domain/alert.ts`), so the SNS
// task publishes a few lines per failed table instead of the state as JSON.
import type { StepDeps } from '../deps';
import { type AlertMessage, composeAlert as compose, type TableFailure } from '../domain/alert';
import type { ComposeAlertEvent } from './contract';
import { describeError } from './write-audit';

export async function composeAlert(event: ComposeAlertEvent, _deps: StepDeps): Promise<AlertMessage> {
  const { executionId, state } = event;
  if (!('outcomes' in state)) {
    return compose({
      pipeline: state.pipeline,
      executionId,
      tablesPlanned: 0,
      failures: [],
      skipped: [],
      planFailure: { error: state.error.Error, message: describeError(state.error).message },
    });
  }
  const failures: TableFailure[] = state.outcomes
    .filter((o) => o.status === 'failed')
    .map((o) => ({
      table: o.table,
      stage: o.failure?.stage ?? 'unknown stage',
      error: o.failure?.error ?? 'unknown error',
      message: o.failure?.message ?? 'no message was recorded; see the audit log and the execution',
    }));
  return compose({
    pipeline: state.pipeline,
    executionId,
    ...(state.tables[0] ? { jobId: state.tables[0].jobId } : {}),
    tablesPlanned: state.tables.length,
    failures,
    skipped: state.outcomes.filter((o) => o.status === 'skipped').map((o) => o.table),
  });
}
