// Runs one pipeline locally for the command line: the definition CDK synthesizes, through the local runner,
// with progress on stderr and the outcome per table and the verdict on stdout.
import type { TallyConfig } from '../lambdas/config';
import type { ExecutionInput } from '../lambdas/steps/contract';
import { type Progress, runPipeline, type Verdict } from '../local/runner';
import { formatTable, log, seconds } from './common';

export interface LocalRunOptions {
  /** Wait between retries; the definition's own backoff is meant for AWS. */
  readonly retryIntervalMs?: number;
  /** Where alerts are appended as JSON lines. */
  readonly alertsFile?: string;
}

export async function runLocalPipeline(
  config: TallyConfig,
  input: ExecutionInput,
  options: LocalRunOptions = {},
): Promise<Verdict> {
  const started = Date.now();
  const failures: StepFailure[] = [];
  const printProgress = progressPrinter();
  log(
    `${input.pipeline} pipeline: ${input.tables?.join(', ') ?? `all ${config.tables.length} configured tables`}`,
  );
  const verdict = await runPipeline({
    config,
    input,
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    ...(options.alertsFile !== undefined ? { alertsFile: options.alertsFile } : {}),
    onProgress: (p) => {
      printProgress(p);
      if (p.phase === 'failed' && p.error) failures.push({ table: p.table, ...p.error });
    },
    printAlert: (line) => log(line),
  });
  if (verdict.tables.length > 0) {
    console.log(
      formatTable(
        ['table', 'status'],
        verdict.tables.map((t) => [t.table, t.status]),
      ),
    );
  }
  console.log(verdictLine(input, verdict, Date.now() - started, failures.at(-1)));
  return verdict;
}

interface StepFailure {
  readonly table: string | null;
  readonly name: string;
  readonly message: string;
}

/** One line per finished step with its duration; a retry is announced when it starts. */
function progressPrinter(): (p: Progress) => void {
  const startedAt = new Map<string, number>();
  return (p) => {
    const key = `${p.table}|${p.state}`;
    const what = `${p.table ?? 'job'} ${p.state}${p.attempt > 0 ? ` (retry ${p.attempt})` : ''}`;
    if (p.phase === 'started') {
      startedAt.set(key, Date.now());
      if (p.attempt > 0) log(`  ↻ ${what}`);
      return;
    }
    const took = seconds(Date.now() - (startedAt.get(key) ?? Date.now()));
    if (p.phase === 'succeeded') log(`  ✓ ${what} ${took}`);
    else log(`  ✗ ${what} ${took}: ${p.error?.name}: ${p.error?.message}`);
  };
}

/** The verdict in one line; a failure names the last step error, which says what went wrong and where. */
export function verdictLine(
  input: ExecutionInput,
  verdict: Verdict,
  ms: number,
  lastFailure?: StepFailure,
): string {
  const ok = verdict.tables.filter((t) => t.status === 'succeeded').length;
  const skipped = verdict.tables.filter((t) => t.status === 'skipped').length;
  const busy = skipped > 0 ? `, ${skipped} skipped (another execution holds them)` : '';
  const tables = `${ok} of ${verdict.tables.length} tables transferred${busy}`;
  if (verdict.status === 'succeeded') {
    return `${input.pipeline} pipeline SUCCEEDED in ${seconds(ms)}: ${tables}, every count matched (${verdict.executionId})`;
  }
  const cause = lastFailure ?? verdict.error;
  const where = lastFailure?.table ? `${lastFailure.table}: ` : '';
  const why = cause ? `: ${where}${cause.name}: ${cause.message}` : '';
  const alerts = verdict.alerts.length > 0 ? `, ${verdict.alerts.length} alert(s) published` : '';
  return `${input.pipeline} pipeline FAILED in ${seconds(ms)}${why} (${tables}${alerts}; ${verdict.executionId})`;
}
