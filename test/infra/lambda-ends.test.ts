// An invocation Lambda ended (a timeout or an out-of-memory end) in the synthesized definition: whichever
// name it arrives under (`Lambda.Unknown` as documented, `Sandbox.Timedout` or `Runtime.OutOfMemory` as
// Lambda reports it today), no Retry takes it and the Catch hands it, by name, to the failure audit. A
// Secrets Manager failure is routed by its own names: retried when a wait can help, caught when not.
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_END_ERROR_NAMES } from '../../lambdas/domain/errors';
import { STEP_NAMES, STEPS } from '../../lambdas/steps/registry';
import { type AslDefinition, synthesizeDefinition } from '../../lib/synthesize-definition';
import { RETRYABLE_ERRORS, ROUTING_STATE } from '../../lib/transfer-definition';
import { StateMachine } from '../../local/interpreter';
import { TEST_CONFIG } from '../support/cdk';

interface AslState {
  Type: string;
  Resource?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: { States: Record<string, AslState> };
}

const STEP_STATES = STEP_NAMES.flatMap((step) => STEPS[step].states.map((state) => state.name));
let definition: AslDefinition;
let lambdaTasks: [string, AslState][];

beforeAll(() => {
  definition = synthesizeDefinition(TEST_CONFIG);
  const all: [string, AslState][] = [];
  const walk = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      all.push([name, state]);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
    }
  };
  walk(definition.States as Record<string, AslState>);
  lambdaTasks = all.filter(([, s]) => s.Type === 'Task' && s.Resource?.includes(':lambda:'));
});

/** Runs the definition with stand-in steps; ExportToS3 of sales.orders ends with `error`, every time. */
async function runEndingExportWith(error: string) {
  const calls: string[] = [];
  const failures: unknown[] = [];
  const handlers: Record<string, (event: never) => Promise<unknown>> = {};
  for (const name of STEP_STATES) {
    handlers[name] = async (event: {
      attempt: number;
      mode?: string;
      state: { work?: { table?: string }; error?: unknown };
    }) => {
      const table = event.state.work?.table ?? '';
      calls.push(`${name}(${table})#${event.attempt}`);
      if (name === 'Plan') {
        return {
          executionId: 'arn:aws:states:local:000000000000:execution:tally:test',
          pipeline: 'incremental',
          tables: ['public.customers', 'sales.orders'].map((t) => ({ table: t, jobId: `job-${t}` })),
        };
      }
      if (name === 'ExportToS3' && table === 'sales.orders') {
        throw Object.assign(new Error('Task timed out after 900.00 seconds'), { name: error });
      }
      if (name === 'ComposeAlert') return { subject: 'Tally: test alert', message: 'a table failed' };
      if (event.mode === 'failure') failures.push(event.state.error);
      if (event.mode === 'success' || event.mode === 'failure') {
        return { table, status: event.mode === 'success' ? 'succeeded' : 'failed' };
      }
      return {};
    };
  }
  handlers[ROUTING_STATE.publishAlert] = async () => ({ MessageId: 'local' });
  const execution = new StateMachine(definition as never, { validationOptions: { checkArn: false } }).run(
    { pipeline: 'incremental' } as never,
    {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(
          [...STEP_STATES, ROUTING_STATE.publishAlert].map((n) => [n, 0]),
        ),
      },
      context: { Execution: { Id: 'arn:aws:states:local:000000000000:execution:tally:test' } } as never,
    },
  );
  const status = await execution.result.then(
    () => 'succeeded',
    () => 'failed',
  );
  return { status, calls, failures };
}

describe('an invocation Lambda ended', () => {
  it('is retried by no Lambda task under any of its names', () => {
    expect(lambdaTasks).toHaveLength(STEP_STATES.length);
    for (const [name, state] of lambdaTasks) {
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      for (const end of LAMBDA_END_ERROR_NAMES) expect(retried, `${name} ${end}`).not.toContain(end);
    }
    for (const end of LAMBDA_END_ERROR_NAMES) expect(RETRYABLE_ERRORS).not.toContain(end);
  });

  it.each(LAMBDA_END_ERROR_NAMES)(
    'as %s fails its table once, audited under that name, and the rest goes on',
    async (end) => {
      const run = await runEndingExportWith(end);
      expect(run.status).toBe('failed');
      expect(run.calls.filter((c) => c.startsWith('ExportToS3(sales.orders)'))).toEqual([
        'ExportToS3(sales.orders)#0',
      ]);
      expect(run.failures).toEqual([{ Error: end, Cause: expect.stringContaining('timed out') }]);
      expect(run.calls).toContain('AuditSuccess(public.customers)#0');
      expect(run.calls.filter((c) => c.startsWith('AuditAlert'))).toHaveLength(1);
    },
  );
});

describe('a Secrets Manager failure', () => {
  it('is retried by every Lambda task when a wait can help, and caught when it cannot', () => {
    for (const [name, state] of lambdaTasks) {
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toContain('SecretUnavailableError');
      expect(retried, name).not.toContain('SecretAccessError');
      // A chunk's export or load is caught inside its Distributed Map, which records the chunk's failure.
      expect(
        (state.Catch ?? []).flatMap((c) => c.ErrorEquals),
        name,
      ).toContain('States.ALL');
    }
  });

  it('reaches the failure audit under its name after the retries', async () => {
    const run = await runEndingExportWith('SecretUnavailableError');
    const attempts = run.calls.filter((c) => c.startsWith('ExportToS3(sales.orders)'));
    expect(attempts.length).toBeGreaterThan(1);
    expect(run.failures).toEqual([{ Error: 'SecretUnavailableError', Cause: expect.any(String) }]);
  });
});
