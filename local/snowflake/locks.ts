// Snowflake's table locks (https://docs.snowflake.com/en/sql-reference/transactions#resource-locking): UPDATE, DELETE,
// MERGE and TRUNCATE lock their table until the transaction ends; a blocked statement waits up to LOCK_TIMEOUT.
import { SnowflakeSqlError } from './engine-types';

interface Waiter {
  readonly session: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Lock {
  holder: string;
  readonly waiters: Waiter[];
}

export interface LockOptions {
  /** LOCK_TIMEOUT in seconds; 0 means fail at once if the lock is held. */
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
  /** Called when the holder is found blocking, so that a detached holder can be aborted (see `engine.ts`). */
  readonly onBlocked?: (holder: string) => void;
}

export function lockTimeoutError(table: string, seconds: number): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '000625',
    '57014',
    `Statement was aborted because it waited ${seconds} second(s) (LOCK_TIMEOUT) for the lock on table '${table}' held by another transaction.`,
  );
}

function deadlockError(table: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '000625',
    '57014',
    `Statement was aborted: waiting for the lock on table '${table}' would deadlock with another transaction, and the most recent statement is the victim.`,
  );
}

export class LockManager {
  private readonly locks = new Map<string, Lock>();

  /** Tables a session holds. */
  held(session: string): string[] {
    return [...this.locks.entries()].filter(([, l]) => l.holder === session).map(([t]) => t);
  }

  /** The session a table's lock is held by, if any. */
  holderOf(table: string): string | undefined {
    return this.locks.get(table)?.holder;
  }

  /** Whether `session` waits, directly or through others, for a lock `target` holds. */
  private waitsFor(session: string, target: string, seen = new Set<string>()): boolean {
    if (seen.has(session)) return false;
    seen.add(session);
    for (const lock of this.locks.values()) {
      if (!lock.waiters.some((w) => w.session === session)) continue;
      if (lock.holder === target || this.waitsFor(lock.holder, target, seen)) return true;
    }
    return false;
  }

  /** Takes a table's lock, waiting if another holds it; true if the session did not hold it already. */
  async acquire(session: string, table: string, options: LockOptions): Promise<boolean> {
    const lock = this.locks.get(table);
    if (!lock) {
      this.locks.set(table, { holder: session, waiters: [] });
      return true;
    }
    if (lock.holder === session) return false;
    // "Snowflake detects deadlocks and chooses the most recent statement which is part of the deadlock as
    // the victim."
    if (this.waitsFor(lock.holder, session)) throw deadlockError(table);
    if (options.timeoutSeconds === 0) throw lockTimeoutError(table, 0);
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        session,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      const timer = setTimeout(
        () => this.dropWaiter(table, waiter, lockTimeoutError(table, options.timeoutSeconds)),
        options.timeoutSeconds * 1000,
      );
      const onAbort = () => this.dropWaiter(table, waiter, options.signal.reason as Error);
      const cleanup = () => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', onAbort);
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      lock.waiters.push(waiter);
      options.onBlocked?.(lock.holder);
    });
    return true;
  }

  private dropWaiter(table: string, waiter: Waiter, err: Error): void {
    const lock = this.locks.get(table);
    if (lock) {
      const at = lock.waiters.indexOf(waiter);
      if (at >= 0) lock.waiters.splice(at, 1);
    }
    waiter.reject(err);
  }

  /** Releases every lock of a session (its transaction ended); each goes to the first waiter. */
  releaseAll(session: string): void {
    for (const [table, lock] of [...this.locks.entries()]) {
      if (lock.holder !== session) continue;
      const next = lock.waiters.shift();
      if (next) {
        lock.holder = next.session;
        next.resolve();
      } else this.locks.delete(table);
    }
  }
}
