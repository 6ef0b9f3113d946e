// Calls a step can go on without: each gets a deadline, after which the step stops waiting for its answer.
// Used where the warehouse itself may be what failed, so that the original error still surfaces in time.

/** How long a best-effort call may take before the step goes on without its answer. */
export const BEST_EFFORT_MS = 10_000;

/** Rejects when `work` has not settled within `ms`; the work itself goes on, unobserved. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** `work`'s answer, or `fallback` when it failed or took longer than BEST_EFFORT_MS. */
export function bestEffort<T, F>(work: Promise<T>, fallback: F): Promise<T | F> {
  return withDeadline(work, BEST_EFFORT_MS).catch(() => fallback);
}
