// The embedded defaults for the length of one command: started, stopped afterwards, on failure and on
// Ctrl-C (then the process exits with 130/143 once they are down), and never left hanging on the way out.
import { withDeadline } from '../lambdas/best-effort';
import type { LocalStack } from '../local/stack';
import { log, seconds } from './common';

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
  await withDeadline(stack.stop(), timeoutMs).catch(() =>
    log('warning: the embedded defaults did not stop in time; exiting anyway'),
  );
}

/**
 * Runs `work` with the embedded defaults up, and stops them afterwards, on failure, and on Ctrl-C (then
 * the process exits with 130/143 once they are down).
 */
export async function withLocalStack<T>(work: (stack: LocalStack) => Promise<T>): Promise<T> {
  log('starting the embedded defaults...');
  const started = Date.now();
  const { startLocalStack } = await import('../local/stack');
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
