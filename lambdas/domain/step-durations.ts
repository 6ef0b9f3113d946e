// How long each Lambda step of a table's run took, carried by the run's final audit event (its success or
// failure) at the end of ERROR_MESSAGE, in a form a program reads back: ` [step ms: CountSource=12
// ExportToS3=3400 ...]`. No column is added, so the audit table of an existing deployment and the hash of
// every event written before stay as they are; events without the suffix simply carry no durations.

/** The steps of a table's run, in order, each timed by its own Lambda invocation. */
export const TIMED_STEPS = [
  'CountSource',
  'ExportToS3',
  'LoadSnowflake',
  'VerifyCounts',
  'VerifyValues',
  'CheckDeletes',
  'WriteAudit',
] as const;
export type TimedStep = (typeof TIMED_STEPS)[number];

export type StepDurations = Partial<Record<TimedStep, number>>;

const SUFFIX = /(?:^| )\[step ms: ([A-Za-z0-9]+=\d+(?: [A-Za-z0-9]+=\d+)*)\]$/;

/** The message with the durations appended (none: the message as it was). */
export function withStepDurations(message: string | null, durations: StepDurations): string | null {
  const parts = TIMED_STEPS.flatMap((step) => {
    const ms = durations[step];
    return ms === undefined || !Number.isFinite(ms) || ms < 0 ? [] : [`${step}=${Math.round(ms)}`];
  });
  if (parts.length === 0) return message;
  const suffix = `[step ms: ${parts.join(' ')}]`;
  return message === null || message === '' ? suffix : `${message} ${suffix}`;
}

/** The durations an event's message carries, and the message without them. */
export function readStepDurations(message: string | null): {
  readonly message: string | null;
  readonly durations: StepDurations;
} {
  if (message === null) return { message, durations: {} };
  const found = SUFFIX.exec(message);
  if (!found) return { message, durations: {} };
  const durations: StepDurations = {};
  for (const pair of (found[1] as string).split(' ')) {
    const [step, ms] = pair.split('=') as [string, string];
    if ((TIMED_STEPS as readonly string[]).includes(step)) durations[step as TimedStep] = Number(ms);
  }
  const rest = message.slice(0, found.index);
  return { message: rest === '' ? null : rest, durations };
}
