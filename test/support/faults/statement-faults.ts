// Statement faults for the Snowflake stand-in: the next statements matching a pattern fail with a given
// Snowflake error, before they run or after they ran, or answer late (until the statement is aborted).
// Handed to `startSnowflake` as its `statementHook`; with no fault set every statement runs as usual.
import { setTimeout as sleep } from 'node:timers/promises';
import { SnowflakeSqlError } from '../../../local/snowflake/engine-types';
import type { StatementHook } from '../../../local/snowflake/server';

export interface SnowflakeErrorSpec {
  readonly code: string;
  readonly sqlState: string;
  readonly message: string;
}

/** Errors Snowflake answers with, as the driver reports them. */
export const SNOWFLAKE_ERRORS = {
  /** A transient service failure: Tally retries it. */
  internal: {
    code: '000603',
    sqlState: 'XX000',
    message:
      'SQL execution internal error: Processing aborted due to error 300005:3922391658; incident 4481516.',
  },
  /** A MERGE whose source holds one key twice: a terminal SQL error. */
  duplicateRow: {
    code: '100090',
    sqlState: '42P18',
    message: 'Duplicate row detected during DML action',
  },
} as const satisfies Record<string, SnowflakeErrorSpec>;

export interface StatementFault {
  /** Which statements: matched against the SQL text. */
  readonly match: RegExp;
  /** The error to answer with; none answers normally (useful with `delayMs`). */
  readonly error?: SnowflakeErrorSpec;
  /**
   * `before`: the statement does not run. `after`: it runs, its effects stay, and the client still gets
   * the error, as when the connection breaks after the server committed. Default `before`.
   */
  readonly when?: 'before' | 'after';
  /**
   * Hold the answer this long (after the statement ran when `when` is `after`), or until the statement is
   * aborted: then a statement held `before` does not run and answers 000604.
   */
  readonly delayMs?: number;
  /** How many matching statements it applies to. Default: until cleared. */
  readonly times?: number;
}

export class StatementFaults {
  /** SQL texts of the statements a fault applied to, in order. */
  readonly hits: string[] = [];
  /** SQL texts of the statements aborted while a fault held them, since the last `clear`. */
  readonly aborted: string[] = [];
  private faults: { fault: StatementFault; remaining: number }[] = [];

  /** Adds a fault; faults added earlier are matched first. */
  add(fault: StatementFault): void {
    this.faults.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes every fault and forgets the statements they aborted. */
  clear(): void {
    this.faults = [];
    this.aborted.length = 0;
  }

  /** The hook to give the stand-in. */
  readonly hook: StatementHook = async (sqlText, phase, signal) => {
    const entry = this.faults.find(
      (f) => f.remaining > 0 && (f.fault.when ?? 'before') === phase && f.fault.match.test(sqlText),
    );
    if (!entry) return;
    entry.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    this.hits.push(sqlText);
    const { delayMs, error } = entry.fault;
    if (delayMs !== undefined && delayMs > 0) {
      const held = await sleep(delayMs, 'answered', { signal }).catch(() => 'aborted');
      if (held === 'aborted') {
        this.aborted.push(sqlText);
        return;
      }
    }
    if (error) throw new SnowflakeSqlError(error.code, error.sqlState, error.message);
  };
}
