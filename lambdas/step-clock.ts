// How long the step being run has left. The Lambda handler (from the invocation's remaining time) and the
// local runner (from the step's time limit) start a clock around each invocation; what must not outlive
// the step, a Snowflake statement, reads it. Steps never see it: it travels with the invocation's async
// context, not with its arguments, since ports and their connections outlive one invocation.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The most a step keeps back from its warehouse work, to cancel what is running and record its failure. */
export const MAX_MARGIN_MS = 25_000;
/** A short step (a test's, a few seconds) keeps this share of its time back instead. */
export const MARGIN_SHARE = 0.25;

export interface StepClock {
  /** When the invocation ends: its Lambda's timeout, or the local runner's time limit (epoch ms). */
  readonly endsAt: number;
  /** The time between `deadline` and `endsAt`. */
  readonly marginMs: number;
  /** When warehouse work must have ended, so that the step can still fail by name (epoch ms). */
  readonly deadline: number;
}

/** What a step of `limitMs` keeps back: 25 s, or a quarter of a step shorter than 100 s. */
export function stepMarginMs(limitMs: number): number {
  return Math.min(MAX_MARGIN_MS, Math.floor(limitMs * MARGIN_SHARE));
}

/** The clock of a step that has `remainingMs` left at `now`. */
export function clockFor(remainingMs: number, now: number = Date.now()): StepClock {
  const marginMs = stepMarginMs(remainingMs);
  const endsAt = now + remainingMs;
  return { endsAt, marginMs, deadline: endsAt - marginMs };
}

/**
 * The longest a statement may run on the server for a host whose longest step runs `stepSeconds`: that
 * step's time less its margin, so that no statement can outlive any step that waits for it.
 */
export function statementCeilingSeconds(stepSeconds: number): number {
  const limitMs = stepSeconds * 1000;
  return Math.floor((limitMs - stepMarginMs(limitMs)) / 1000);
}

const clocks = new AsyncLocalStorage<StepClock>();

/** Runs `work` as a step with `remainingMs` left: everything it starts, however deep, sees this clock. */
export function withStepClock<T>(remainingMs: number, work: () => T): T {
  return clocks.run(clockFor(remainingMs), work);
}

/** The clock of the step this code runs in; undefined outside any step (the command line, a test). */
export function currentStepClock(): StepClock | undefined {
  return clocks.getStore();
}
