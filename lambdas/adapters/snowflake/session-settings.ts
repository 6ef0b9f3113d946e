// What a Snowflake session is held to, kept apart from the driver so it can be checked without one: the
// parameters every session sets, the server's statement timeout, and the deadline each statement (and each
// sign-in) runs under, with the error a step fails with when it passes.
import { WarehouseUnavailableError } from '../../domain/errors';
import { type StepClock, statementCeilingSeconds, stepMarginMs } from '../../step-clock';

/** AWS Lambda's longest timeout: how long a step may run when the host names no shorter one. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * STATEMENT_TIMEOUT_IN_SECONDS for a host whose longest step runs `longestStepSeconds`: the configured
 * `snowflake.statementTimeoutSeconds`, lowered to that step's time less its margin, which is also the
 * default. Snowflake cancels a statement that runs longer (000630), even one whose client is gone.
 */
export function sessionStatementTimeout(configured: number | undefined, longestStepSeconds: number): number {
  const ceiling = statementCeilingSeconds(longestStepSeconds);
  return Math.min(configured ?? ceiling, ceiling);
}

/**
 * The ALTER SESSION every connection runs before its first statement. Besides the timeout and UTC, it
 * pins what an account or user default could otherwise change under a load (each is a session parameter,
 * https://docs.snowflake.com/en/sql-reference/parameters): AUTO input formats, as the file format's own
 * DATE_FORMAT, TIME_FORMAT and TIMESTAMP_FORMAT (AUTO) defer to them; case-sensitive quoted identifiers;
 * and ABORT_DETACHED_QUERY, so that a statement whose client vanished without cancelling it is aborted by
 * Snowflake 5 minutes after losing it instead of running on. (A transaction such a session left open keeps
 * its locks until it has blocked another for 5 minutes, https://docs.snowflake.com/en/sql-reference/transactions;
 * the session rolls back its own before giving a connection up.)
 */
export function sessionSettings(statementTimeoutSeconds: number): string {
  return [
    `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = ${statementTimeoutSeconds}`,
    "TIMEZONE = 'UTC'",
    'ABORT_DETACHED_QUERY = TRUE',
    "DATE_INPUT_FORMAT = 'AUTO'",
    "TIME_INPUT_FORMAT = 'AUTO'",
    "TIMESTAMP_INPUT_FORMAT = 'AUTO'",
    'QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE',
  ].join(', ');
}

export interface StatementDeadline {
  /** When the statement must have answered (epoch ms). */
  readonly at: number;
  /**
   * Once `at` has passed, how long cancelling may take: the abort request, a rollback, discarding the
   * connection. Half the step's margin; the other half is the step's own, to fail by name.
   */
  readonly cleanupMs: number;
  /** Which deadline it is, as the error says: the step's, or the budget of a statement outside any step. */
  readonly by: string;
}

/**
 * The deadline of a statement started at `now`: the step's, when it runs inside one; otherwise as long as
 * the longest step may run, so that nothing, not even the driver's own retries, waits for hours.
 */
export function statementDeadline(
  clock: StepClock | undefined,
  longestStepSeconds: number,
  now: number = Date.now(),
): StatementDeadline {
  if (clock) return { at: clock.deadline, cleanupMs: clock.marginMs / 2, by: "before the step's deadline" };
  const budgetMs = longestStepSeconds * 1000;
  return { at: now + budgetMs, cleanupMs: stepMarginMs(budgetMs) / 2, by: `within ${longestStepSeconds} s` };
}

/**
 * The error of work that did not finish by its deadline: a statement cancelled there, one not sent after
 * it, or a sign-in given up on. Transient: a retry starts with a new connection and a deadline of its own.
 */
export function deadlinePassed(
  what: string,
  deadline: StatementDeadline,
  work: 'statement' | 'refused' | 'sign-in',
): WarehouseUnavailableError {
  const discarded = 'the connection was discarded and a retry opens a new one';
  const ended = {
    statement: `the statement did not finish ${deadline.by} and was cancelled; ${discarded}`,
    refused: `the statement was not sent, as it could no longer finish ${deadline.by}; a retry gets a deadline of its own`,
    'sign-in': `the sign-in did not finish ${deadline.by}; ${discarded}`,
  }[work];
  return new WarehouseUnavailableError(`${what}: ${ended}`);
}
