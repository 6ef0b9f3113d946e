// The arithmetic every benchmark's report shares: rounding figures and taking medians of runs.

/** `n` rounded to `digits` decimal places. */
export const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The median of the values, the mean of the two middle ones for an even count. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The run whose `key` is the median of the runs' (the lower middle of an even count): a run that happened. */
export function medianBy<T>(runs: readonly T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}
