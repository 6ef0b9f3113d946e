// The alert a person reads when a run fails: which tables failed, at which stage, with which error, the
// job to look up in the audit log and a link to the execution. Written to fit SNS: a subject of printable
// ASCII under 100 characters, and a message far below the 256 KB SNS takes, however many tables failed.

/** One failed table, as its Map iteration ended. */
export interface TableFailure {
  readonly table: string;
  /** The state of the table's chain that failed, e.g. `LoadSnowflake`. */
  readonly stage: string;
  /** The error's name, as Step Functions routed it. */
  readonly error: string;
  readonly message: string;
}

export interface RunFailure {
  readonly pipeline: string;
  readonly executionId: string;
  /** Absent when the run failed before it had one (in planning). */
  readonly jobId?: string;
  readonly tablesPlanned: number;
  readonly failures: readonly TableFailure[];
  /** Tables another execution held: not failed, listed so nobody wonders where they went. */
  readonly skipped: readonly string[];
  /** Set when the run failed before any table started: planning's own error. */
  readonly planFailure?: { readonly error: string; readonly message: string };
}

export interface AlertMessage {
  readonly subject: string;
  readonly message: string;
}

/** SNS: "less than 100 characters"; Tally keeps well inside. */
export const SUBJECT_MAX_CHARS = 99;
/** Far below SNS's 262,144 bytes, leaving room for the delivery's own envelope. */
export const MESSAGE_MAX_BYTES = 200_000;
/** Per table: one error message is enough to know where to look; the audit log has it whole. */
export const ERROR_MESSAGE_MAX_CHARS = 1_000;

/** The alert for a failed run. */
export function composeAlert(run: RunFailure): AlertMessage {
  const link = executionLink(run.executionId);
  const head: string[] = [];
  if (run.planFailure) {
    head.push(
      `Tally's ${run.pipeline} run failed while planning, before any table was transferred. Nothing moved and no watermark changed.`,
      '',
      `${run.planFailure.error}: ${clip(run.planFailure.message, ERROR_MESSAGE_MAX_CHARS)}`,
    );
  } else {
    head.push(
      `Tally's ${run.pipeline} run failed: ${run.failures.length} of ${run.tablesPlanned} table(s) did not complete. Their watermarks stay where they were, so the next run takes up the same rows again.`,
    );
  }
  head.push('', `Execution: ${run.executionId}`);
  if (run.jobId !== undefined) head.push(`Job: ${run.jobId} (tally audit --job ${run.jobId})`);
  if (link !== null) head.push(`Console: ${link}`);

  const tail: string[] = [];
  if (run.skipped.length > 0) {
    tail.push('', `Skipped, held by another execution (not failed): ${run.skipped.join(', ')}`);
  }

  const lines = [...head];
  if (run.failures.length > 0) lines.push('', 'Failed tables:');
  let bytes = byteLength([...lines, ...tail]) + 200;
  let listed = 0;
  for (const f of run.failures) {
    const line = `- ${f.table}: failed at ${f.stage} with ${f.error}: ${clip(f.message, ERROR_MESSAGE_MAX_CHARS)}`;
    const size = Buffer.byteLength(line) + 1;
    if (bytes + size > MESSAGE_MAX_BYTES) break;
    lines.push(line);
    bytes += size;
    listed += 1;
  }
  if (listed < run.failures.length) {
    lines.push(
      `- and ${run.failures.length - listed} more table(s): each has a failure event in the audit log`,
    );
  }
  lines.push(...tail);
  return { subject: subjectOf(run), message: lines.join('\n') };
}

function subjectOf(run: RunFailure): string {
  const pipeline = asciiOnly(run.pipeline);
  const subject = run.planFailure
    ? `Tally: ${pipeline} run failed in planning (${asciiOnly(run.planFailure.error)})`
    : `Tally: ${run.failures.length} of ${run.tablesPlanned} table(s) failed in the ${pipeline} run`;
  return subject.slice(0, SUBJECT_MAX_CHARS);
}

/** The AWS console's host in each partition; the stack's execution-status alerts link with it too. */
export const CONSOLE_HOSTS = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
} as const;

/**
 * The execution's page in the Step Functions console, from its ARN
 * (`arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`); null for anything else.
 */
export function executionLink(executionArn: string): string | null {
  const match =
    /^arn:(aws|aws-cn|aws-us-gov):states:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:execution:[^:]+:[^:]+$/.exec(
      executionArn,
    );
  if (!match) return null;
  const [, partition, region] = match;
  const host = CONSOLE_HOSTS[partition as keyof typeof CONSOLE_HOSTS];
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** `text` on one line, cut to `max` characters with an ellipsis when longer. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/** SNS subjects take printable ASCII only: anything else becomes `?`. */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function byteLength(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
}
