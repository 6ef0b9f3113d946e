// What every subcommand shares: exit codes, diagnostics on stderr, option parsers, signal handling and
// the embedded defaults started for the length of one command. Heavy modules load only when a command
// runs, so that --help and argument errors answer at once.
import { InvalidArgumentError } from 'commander';
import { InvalidConfigError, InvalidInputError, TallyError } from '../../lambdas/domain/errors';
import type { LocalStack } from '../stack';

/** 0 success, 1 the work failed, 2 the command line or configuration was wrong, 130/143 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure whose message is already meant for the user, with the exit code it ends in. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** The exit code a thrown error ends the process with. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof InvalidConfigError || err instanceof InvalidInputError) return EXIT.usage;
  return EXIT.failed;
}

/** One line naming the problem; named errors keep their name so the user can look it up. */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof TallyError) return `${err.name}: ${err.message}`;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}

/** Progress and diagnostics go to stderr so that stdout stays machine-readable. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.replace(/_/g, '')) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  if (value === '0') return 0;
  return positiveInt(value);
}

export function tableList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new InvalidArgumentError('must name at least one table, e.g. orders,customers');
  return names;
}

const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Resolves with the first SIGINT or SIGTERM. Other listeners are removed first: the embedded PostgreSQL
 * package installs an exit hook that would end the process before our own cleanup has run.
 */
export function nextShutdownSignal(): { signal: Promise<'SIGINT' | 'SIGTERM'>; dispose(): void } {
  let handler: (s: 'SIGINT' | 'SIGTERM') => void = () => {};
  const signal = new Promise<'SIGINT' | 'SIGTERM'>((resolve) => {
    handler = resolve;
  });
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(s);
    process.on(s, handler);
  }
  return {
    signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function signalExitCode(signal: 'SIGINT' | 'SIGTERM'): number {
  return SIGNAL_EXIT[signal];
}

/** Stops the embedded defaults, giving up after a while so that a stuck server cannot hang the CLI. */
export async function stopStack(stack: LocalStack, timeoutMs = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log('warning: the embedded defaults did not stop in time; exiting anyway');
      resolve();
    }, timeoutMs);
  });
  await Promise.race([stack.stop(), timeout]);
  clearTimeout(timer);
}

/**
 * Runs `work` with the embedded defaults up, and stops them afterwards, on failure, and on Ctrl-C (then
 * the process exits with 130/143 once they are down).
 */
export async function withLocalStack<T>(work: (stack: LocalStack) => Promise<T>): Promise<T> {
  log('starting the embedded defaults...');
  const started = Date.now();
  const { startLocalStack } = await import('../stack');
  // After the import: the embedded PostgreSQL package installs its own signal hook when it loads.
  const shutdown = nextShutdownSignal();
  const stack = await startLocalStack();
  log(`embedded defaults ready in ${seconds(Date.now() - started)}`);
  void shutdown.signal.then(async (signal) => {
    log(`${signal}: stopping the embedded defaults`);
    await stopStack(stack);
    process.exit(signalExitCode(signal));
  });
  try {
    return await work(stack);
  } finally {
    shutdown.dispose();
    await stopStack(stack);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Renders rows as an aligned plain-text table; columns of numbers (and blanks) are right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? '' : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map(
    (_, i) =>
      rows.some((r) => typeof r[i] === 'number') &&
      rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...cells.map(line)].join('\n');
}
