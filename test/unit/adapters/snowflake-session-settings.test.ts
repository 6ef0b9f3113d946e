import { describe, expect, it } from 'vitest';
import {
  deadlinePassed,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  sessionSettings,
  sessionStatementTimeout,
  statementDeadline,
} from '../../../lambdas/adapters/snowflake/session-settings';
import { clockFor } from '../../../lambdas/step-clock';
import { LONGEST_STEP_TIMEOUT_SECONDS } from '../../../lambdas/steps/registry';

describe('the session settings of a Snowflake connection', () => {
  it("default the statement timeout to the longest step's timeout less its margin, and lower a larger one to it", () => {
    expect(LONGEST_STEP_TIMEOUT_SECONDS).toBe(900);
    expect(sessionStatementTimeout(undefined, LONGEST_STEP_TIMEOUT_SECONDS)).toBe(875);
    expect(sessionStatementTimeout(3600, LONGEST_STEP_TIMEOUT_SECONDS)).toBe(875);
    expect(sessionStatementTimeout(300, LONGEST_STEP_TIMEOUT_SECONDS)).toBe(300);
    expect(sessionStatementTimeout(undefined, LAMBDA_MAX_TIMEOUT_SECONDS)).toBe(875);
  });

  // Parameter names and values as Snowflake documents them: https://docs.snowflake.com/en/sql-reference/parameters
  // (ABORT_DETACHED_QUERY, STATEMENT_TIMEOUT_IN_SECONDS, QUOTED_IDENTIFIERS_IGNORE_CASE, TIMEZONE) and
  // https://docs.snowflake.com/en/sql-reference/date-time-input-output (the three input formats, AUTO by
  // default but settable per account and user), in one ALTER SESSION, comma-separated
  // (https://docs.snowflake.com/en/sql-reference/sql/alter-session).
  it('pin what an account or user default could change under a load, and abort queries whose client vanished', () => {
    expect(sessionSettings(875)).toBe(
      "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 875, TIMEZONE = 'UTC', ABORT_DETACHED_QUERY = TRUE, " +
        "DATE_INPUT_FORMAT = 'AUTO', TIME_INPUT_FORMAT = 'AUTO', TIMESTAMP_INPUT_FORMAT = 'AUTO', " +
        'QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE',
    );
  });
});

describe('the deadline of a Snowflake statement', () => {
  it("is the step's deadline inside a step, with half its margin for cancelling", () => {
    const clock = clockFor(900_000, 0);
    expect(statementDeadline(clock, LONGEST_STEP_TIMEOUT_SECONDS, 500_000)).toEqual({
      at: 875_000,
      cleanupMs: 12_500,
      by: "before the step's deadline",
    });
  });

  it('is as long as the longest step outside any step, counted from the statement', () => {
    expect(statementDeadline(undefined, LONGEST_STEP_TIMEOUT_SECONDS, 1_000)).toEqual({
      at: 901_000,
      cleanupMs: 12_500,
      by: 'within 900 s',
    });
  });

  it('fails the step with a transient error saying the statement was cancelled at the deadline', () => {
    const deadline = statementDeadline(clockFor(8_000, 0), LONGEST_STEP_TIMEOUT_SECONDS);
    const err = deadlinePassed('replacing the rows of ITEMS', deadline, 'statement');
    expect(err.name).toBe('WarehouseUnavailableError');
    expect(err.transient).toBe(true);
    expect(err.message).toBe(
      "replacing the rows of ITEMS: the statement did not finish before the step's deadline and was cancelled; the connection was discarded and a retry opens a new one",
    );
    expect(deadlinePassed('signing in to Snowflake', deadline, 'sign-in').message).toMatch(
      /^signing in to Snowflake: the sign-in did not finish before the step's deadline; /,
    );
    expect(deadlinePassed('merging into ITEMS', deadline, 'refused').message).toMatch(
      /the statement was not sent, as it could no longer finish before the step's deadline/,
    );
  });
});
