import { describe, expect, it } from 'vitest';
import { StateMachine, type StateMachineDefinition } from '../../local/interpreter';

/** A task that fails `failures` times, then succeeds; it records what `$$.State` said on each call. */
function flaky(failures: number) {
  const seen: unknown[] = [];
  const handler = async (input: unknown) => {
    seen.push(input);
    if (seen.length <= failures) {
      const err = new Error('not yet');
      err.name = 'SourceUnavailableError';
      throw err;
    }
    return { ok: true };
  };
  return { seen, handler };
}

const definition = (retry: object[]): StateMachineDefinition =>
  ({
    StartAt: 'Work',
    States: {
      Work: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:123456789012:function:work',
        Parameters: { 'attempt.$': '$$.State.RetryCount', 'name.$': '$$.State.Name' },
        Retry: retry,
        End: true,
      },
    },
  }) as StateMachineDefinition;

describe('the local interpreter', () => {
  it('tells a task its retry count as AWS does: 0 on the first attempt, then 1, 2, ...', async () => {
    const { seen, handler } = flaky(2);
    const machine = new StateMachine(
      definition([{ ErrorEquals: ['SourceUnavailableError'], MaxAttempts: 3, IntervalSeconds: 1 }]),
    );
    const run = machine.run(
      {},
      {
        overrides: { taskResourceLocalHandlers: { Work: handler }, retryIntervalOverrides: { Work: 0 } },
      },
    );
    await expect(run.result).resolves.toEqual({ ok: true });
    expect(seen).toEqual([
      { attempt: 0, name: 'Work' },
      { attempt: 1, name: 'Work' },
      { attempt: 2, name: 'Work' },
    ]);
  });

  it('counts retries across every retrier of the state', async () => {
    const { seen, handler } = flaky(2);
    const machine = new StateMachine(
      definition([
        { ErrorEquals: ['Lambda.ServiceException'], MaxAttempts: 2 },
        { ErrorEquals: ['SourceUnavailableError'], MaxAttempts: 3 },
      ]),
    );
    const run = machine.run(
      {},
      {
        overrides: { taskResourceLocalHandlers: { Work: handler }, retryIntervalOverrides: { Work: 0 } },
      },
    );
    await run.result;
    expect(seen.map((s) => (s as { attempt: number }).attempt)).toEqual([0, 1, 2]);
  });

  it('starts the count again in a later visit of the same state', async () => {
    const calls: number[] = [];
    let failNext = true;
    const machine = new StateMachine({
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:work',
          Parameters: { 'attempt.$': '$$.State.RetryCount', 'round.$': '$.round' },
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
          ResultPath: '$.round',
          Next: 'Again',
        },
        Again: {
          Type: 'Choice',
          Choices: [{ Variable: '$.round', NumericEquals: 1, Next: 'Work' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    } as StateMachineDefinition);
    const run = machine.run(
      { round: 0 },
      {
        overrides: {
          taskResourceLocalHandlers: {
            Work: async (input) => {
              const { attempt, round } = input as { attempt: number; round: number };
              calls.push(attempt);
              if (failNext) {
                failNext = false;
                throw new Error('once');
              }
              return round + 1;
            },
          },
          retryIntervalOverrides: { Work: 0 },
        },
      },
    );
    await run.result;
    expect(calls).toEqual([0, 1, 0]);
  });
});
