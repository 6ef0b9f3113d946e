// The state machine as deployed: every Lambda task retries Tally's transient errors with backoff and
// full jitter and catches everything else into the failure audit; a failed table ends in one native SNS
// publish, an alert audit event and a failed execution. Checked on the definition the stack synthesizes.
import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { TRANSIENT_ERROR_NAMES } from '../../lambdas/domain/errors';
import { STEP_NAMES, STEPS, stepOfState } from '../../lambdas/steps/registry';
import { type AslDefinition, localFunctionArn, synthesizeDefinition } from '../../lib/synthesize-definition';
import { CHUNK_FAILED, ROUTING_STATE } from '../../lib/transfer-definition';
import { StateMachine } from '../../local/interpreter';
import { logicalIdOf, render, resourcesOf, TEST_CONFIG, tallyStack } from '../support/cdk';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Next?: string;
  Default?: string;
  Choices?: { Next: string; [key: string]: unknown }[];
  ItemReader?: unknown;
  ItemSelector?: unknown;
  ItemProcessor?: { StartAt: string; States: Record<string, AslState>; ProcessorConfig?: unknown };
  MaxConcurrency?: number;
  ItemsPath?: string;
}

/** Every state, including those inside the Map, by name. */
function allStates(states: Record<string, AslState>): Map<string, AslState> {
  const found = new Map<string, AslState>();
  for (const [name, state] of Object.entries(states)) {
    found.set(name, state);
    if (state.ItemProcessor) for (const [n, s] of allStates(state.ItemProcessor.States)) found.set(n, s);
  }
  return found;
}

/** Every state the step registry runs, by name. */
const STEP_STATES = STEP_NAMES.flatMap((step) => STEPS[step].states.map((state) => state.name));

let definition: AslDefinition;
let states: Map<string, AslState>;
let lambdaTasks: [string, AslState][];

beforeAll(() => {
  definition = synthesizeDefinition(TEST_CONFIG);
  states = allStates(definition.States as Record<string, AslState>);
  lambdaTasks = [...states].filter(([, s]) => s.Type === 'Task' && s.Resource?.includes(':lambda:'));
});

describe('the synthesized definition', () => {
  it('passes the ASL validator', () => {
    // The validator fills in defaults (QueryLanguage) on what it is given: hand it a copy.
    const { isValid, errorsText } = aslValidator(structuredClone(definition));
    expect(errorsText(), errorsText()).toBe('');
    expect(isValid).toBe(true);
  });

  it('is the definition the stack deploys, with references replaced by local placeholder ARNs', () => {
    const { stack, template } = tallyStack();
    const machines = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    let deployed = render(machines[0]?.Properties?.DefinitionString)
      .replace(
        `<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`,
        'arn:aws:sns:local:000000000000:TallyAlerts',
      )
      .replace(/<AWS::Partition>/g, 'aws');
    for (const step of STEP_NAMES) {
      const fn = `<${logicalIdOf(stack, stack.pipeline.functions[step].function)}.Arn>`;
      deployed = deployed.replaceAll(fn, localFunctionArn(step));
    }
    expect(JSON.parse(deployed)).toEqual(definition);
  });

  it("has a task for every state of the step registry and otherwise only the definition's routing states", () => {
    for (const name of STEP_STATES) expect(states.get(name)?.Type, name).toBe('Task');
    expect([...states.keys()].sort()).toEqual([...STEP_STATES, ...Object.values(ROUTING_STATE)].sort());
  });

  it('names each step function in its task, so the local runner and the logs can tell them apart', () => {
    const resources = Object.fromEntries(lambdaTasks.map(([name, s]) => [name, s.Resource]));
    const fn = (name: string) => `arn:aws:lambda:local:000000000000:function:${name}`;
    expect(resources).toEqual({
      Plan: fn('Plan'),
      CountSource: fn('CountSource'),
      ExportToS3: fn('ExportToS3'),
      ExportChunk: fn('ExportToS3'),
      GatherChunks: fn('ExportToS3'),
      ExportChunkFailed: fn('ExportToS3'),
      LoadChunkFailed: fn('ExportToS3'),
      LoadSnowflake: fn('LoadSnowflake'),
      PrepareCopy: fn('LoadSnowflake'),
      LoadChunk: fn('LoadSnowflake'),
      VerifyCounts: fn('VerifyCounts'),
      VerifyValues: fn('VerifyValues'),
      CheckDeletes: fn('CheckDeletes'),
      AuditSuccess: fn('WriteAudit'),
      AuditFailure: fn('WriteAudit'),
      AuditAlert: fn('WriteAudit'),
      ComposeAlert: fn('ComposeAlert'),
    });
    for (const [name] of lambdaTasks) expect(stepOfState(name), name).toBeDefined();
  });

  it('retries every Lambda task on each transient error with exponential backoff and full jitter', () => {
    expect(lambdaTasks).toHaveLength(STEP_STATES.length);
    for (const [name, state] of lambdaTasks) {
      const retriers = state.Retry ?? [];
      const transient = retriers.find((r) => r.ErrorEquals.includes('SourceUnavailableError'));
      expect(transient, name).toBeDefined();
      expect(transient?.ErrorEquals, name).toEqual(expect.arrayContaining([...TRANSIENT_ERROR_NAMES]));
      expect(transient, name).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL' });
      expect(transient?.MaxAttempts, name).toBeGreaterThanOrEqual(2);
      // A timeout or out-of-memory end would only repeat: it must reach the Catch, not a retry.
      const retried = retriers.flatMap((r) => r.ErrorEquals);
      expect(retried, name).not.toContain('Lambda.Unknown');
      expect(retried, name).not.toContain('States.ALL');
      expect(retried, name).not.toContain('States.TaskFailed');
    }
  });

  it('never retries a terminal error such as a count mismatch', () => {
    for (const [name, state] of lambdaTasks) {
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      for (const terminal of [
        'CountMismatchError',
        'InvalidInputError',
        'SourceSchemaError',
        'WarehouseAuthError',
      ]) {
        expect(retried, name).not.toContain(terminal);
      }
    }
  });

  it('catches every error of every Lambda task into the failure path', () => {
    const expectedTarget: Record<string, string> = {
      Plan: 'ComposeAlert',
      AuditFailure: ROUTING_STATE.tableFailed,
      AuditAlert: ROUTING_STATE.failed,
      ComposeAlert: ROUTING_STATE.alertFallback,
    };
    // A chunk that fails after its retries is recorded by its Catch (which chunk, which error), then its
    // iteration fails, and with it the chunks' Distributed Map, whose Catch is the table's failure path.
    const inMap: Record<string, { recorder: string; abandoned: string; map: string }> = {
      ExportChunk: {
        recorder: 'ExportChunkFailed',
        abandoned: ROUTING_STATE.exportChunkAbandoned,
        map: ROUTING_STATE.exportChunks,
      },
      LoadChunk: {
        recorder: 'LoadChunkFailed',
        abandoned: ROUTING_STATE.loadChunkAbandoned,
        map: ROUTING_STATE.loadChunks,
      },
    };
    const catchAllOf = (state: AslState | undefined) =>
      (state?.Catch ?? []).find((c) => c.ErrorEquals.includes('States.ALL'));
    for (const [task, { recorder, abandoned, map }] of Object.entries(inMap)) {
      expect(catchAllOf(states.get(task)), task).toMatchObject({ Next: recorder, ResultPath: '$.error' });
      expect(catchAllOf(states.get(recorder))?.Next, recorder).toBe(abandoned);
      expect(states.get(recorder)?.Next, recorder).toBe(abandoned);
      expect(states.get(abandoned), abandoned).toMatchObject({ Type: 'Fail', Error: CHUNK_FAILED });
      expect(catchAllOf(states.get(map)), map).toMatchObject({ Next: 'AuditFailure', ResultPath: '$.error' });
    }
    const recorders = new Set(Object.values(inMap).map((m) => m.recorder));
    for (const [name, state] of lambdaTasks.filter(([n]) => !(n in inMap) && !recorders.has(n))) {
      const catchAll = catchAllOf(state);
      expect(catchAll, name).toBeDefined();
      expect(catchAll?.Next, name).toBe(expectedTarget[name] ?? 'AuditFailure');
      expect(catchAll?.ResultPath, name).toMatch(/^\$\.\w+$/);
    }
  });

  it('hands every Lambda task the execution id, its state name, the attempt number and the state', () => {
    for (const [name, state] of lambdaTasks) {
      // Inside the Distributed Map each chunk runs in a child execution: the parent's id and start come
      // through the Map's ItemSelector.
      const chunk = ['ExportChunk', 'LoadChunk', 'ExportChunkFailed', 'LoadChunkFailed'].includes(name);
      expect(state.Parameters, name).toMatchObject({
        'executionId.$': chunk ? '$.executionId' : '$$.Execution.Id',
        'stateName.$': '$$.State.Name',
        'attempt.$': '$$.State.RetryCount',
        'executionStartedAt.$': chunk ? '$.executionStartedAt' : '$$.Execution.StartTime',
        // The execution's own timeout, so that a table's lease ends when its execution does.
        executionTimeoutSeconds: definition.TimeoutSeconds,
        'state.$': '$',
      });
    }
    expect(definition.TimeoutSeconds).toBe(7200);
    expect(states.get('AuditSuccess')?.Parameters?.mode).toBe('success');
    expect(states.get('AuditFailure')?.Parameters?.mode).toBe('failure');
    expect(states.get('AuditAlert')?.Parameters?.mode).toBe('alert');
  });

  /** A chunks' Distributed Map: its items read from the item file in S3, each handed the table's state. */
  const chunksMap = (startAt: string, next: string, selector: Record<string, string> = {}) => ({
    Type: 'Map',
    ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: startAt },
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.count.chunks.bucket', 'Key.$': '$.count.chunks.itemsKey' },
    },
    ItemSelector: {
      'work.$': '$.work',
      'executionId.$': '$.executionId',
      'executionStartedAt.$': '$$.Execution.StartTime',
      'count.$': '$.count',
      'chunk.$': '$$.Map.Item.Value',
      ...selector,
    },
    MaxConcurrency: 8,
    ResultPath: null,
    Next: next,
  });

  it('exports the chunks of a split historical load in a Distributed Map that reads its items from S3', () => {
    expect(states.get(ROUTING_STATE.splitIntoChunks)).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.count.chunks', IsPresent: true, Next: ROUTING_STATE.exportChunks }],
      Default: 'ExportToS3',
    });
    expect(states.get(ROUTING_STATE.exportChunks)).toMatchObject(chunksMap('ExportChunk', 'GatherChunks'));
    expect(states.get(ROUTING_STATE.exportChunks)?.ItemSelector).not.toHaveProperty('export.$');
    expect(states.get('GatherChunks')).toMatchObject({ ResultPath: '$.export', Next: 'PrepareCopy' });
    expect(states.get('ExportToS3')?.Next).toBe('LoadSnowflake');
  });

  it('checks deletes after the values are verified and before the success is audited, failing into the failure audit', () => {
    expect(states.get('VerifyValues')?.Next).toBe('CheckDeletes');
    const check = states.get('CheckDeletes');
    expect(check?.Next).toBe('AuditSuccess');
    expect(check?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'AuditFailure', ResultPath: '$.error' },
    ]);
    const retried = (check?.Retry ?? []).flatMap((r) => r.ErrorEquals);
    expect(retried).toContain('SourceUnavailableError');
    expect(retried).not.toContain('DeleteCheckError');
  });

  it('loads each chunk in an invocation of its own, in a second Distributed Map, into the copy made once, then swaps', () => {
    expect(states.get('PrepareCopy')).toMatchObject({ ResultPath: null, Next: ROUTING_STATE.loadChunks });
    // The load's chunks also get GatherChunks' sum, which says the load is chunked.
    expect(states.get(ROUTING_STATE.loadChunks)).toMatchObject(
      chunksMap('LoadChunk', 'LoadSnowflake', { 'export.$': '$.export' }),
    );
    // The iteration's output is only the chunk's index (ResultPath `$`, the default).
    expect(states.get('LoadChunk')).toMatchObject({ End: true });
    expect(states.get('LoadChunk')?.ResultPath).toBeUndefined();
  });

  it('keeps each step result under its own key of the table state', () => {
    expect(states.get('CountSource')?.ResultPath).toBe('$.count');
    expect(states.get('ExportToS3')?.ResultPath).toBe('$.export');
    expect(states.get('LoadSnowflake')?.ResultPath).toBe('$.load');
    expect(states.get('VerifyCounts')?.ResultPath).toBe('$.verify');
    expect(states.get('VerifyValues')?.ResultPath).toBe('$.values');
    expect(states.get('CheckDeletes')?.ResultPath).toBe('$.deletes');
    const map = states.get(ROUTING_STATE.transferTables);
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.tables',
      ResultPath: '$.outcomes',
      MaxConcurrency: 4,
    });
  });

  it('publishes the alert through the native SNS integration, not a Lambda, when a table failed', () => {
    const publish = states.get(ROUTING_STATE.publishAlert);
    expect(publish?.Type).toBe('Task');
    expect(publish?.Resource).toBe('arn:aws:states:::sns:publish');
    expect(publish?.Parameters?.TopicArn).toBe('arn:aws:sns:local:000000000000:TallyAlerts');
    // What ComposeAlert wrote for a person, not the state as JSON.
    expect(publish?.Parameters).toMatchObject({
      'Subject.$': '$.alertMessage.subject',
      'Message.$': '$.alertMessage.message',
    });
    expect(states.get('ComposeAlert')?.ResultPath).toBe('$.alertMessage');
    const choice = states.get(ROUTING_STATE.anyTableFailed);
    expect(choice?.Type).toBe('Choice');
    expect(choice?.Choices?.map((c) => c.Next)).toEqual(['ComposeAlert']);
    expect(choice?.Default).toBe(ROUTING_STATE.succeeded);
    expect(states.get(ROUTING_STATE.failed)?.Type).toBe('Fail');
    expect(states.get(ROUTING_STATE.succeeded)?.Type).toBe('Succeed');
  });
});

describe('routing of the synthesized definition, run by the local interpreter with stand-in steps', () => {
  type Step = (event: { attempt: number; mode?: string; state: Record<string, never> }) => Promise<unknown>;

  async function execute(fail: {
    table?: string;
    plan?: boolean;
    transientOnce?: string;
    busy?: string;
    auditFails?: boolean;
    composeFails?: boolean;
    publishFails?: boolean;
  }) {
    const calls: string[] = [];
    const published: unknown[] = [];
    const failWith = (name: string, message: string) => Object.assign(new Error(message), { name });
    const tableOf = (state: { work?: { table?: string } }) => state.work?.table ?? '';
    const step =
      (name: string): Step =>
      async (event) => {
        const table = tableOf(event.state as { work?: { table?: string } });
        calls.push(`${name}${table ? `(${table})` : ''}#${event.attempt}`);
        if (name === 'Plan') {
          if (fail.plan) throw failWith('InvalidInputError', 'pipeline: expected historical or incremental');
          return {
            executionId: 'arn:aws:states:local:000000000000:execution:tally:test',
            pipeline: 'incremental',
            tables: ['public.customers', 'sales.orders'].map((t) => ({ table: t, jobId: `job-${t}` })),
          };
        }
        if (name === 'CountSource' && table === fail.transientOnce && event.attempt === 0) {
          throw failWith('SourceUnavailableError', 'connection refused');
        }
        if (name === 'CountSource' && table === fail.busy) {
          throw failWith('TableBusyError', `${table} is being loaded by another execution`);
        }
        if (name === 'VerifyCounts' && table === fail.table) throw failWith('CountMismatchError', '10 != 9');
        if (event.mode === 'failure' && fail.auditFails) throw failWith('WarehouseUnavailableError', 'down');
        // The alert's text is the state ComposeAlert was handed, so a test can read what it saw.
        if (name === 'ComposeAlert') {
          if (fail.composeFails) throw failWith('InvalidInputError', 'unreadable run state');
          return { subject: 'Tally: test alert', message: JSON.stringify(event.state) };
        }
        if (event.mode === 'success') return { table, status: 'succeeded' };
        if (event.mode === 'failure') {
          const error = (event.state as { error?: { Error?: string } }).error?.Error ?? '';
          if (error === 'TableBusyError') return { table, status: 'skipped' };
          return { table, status: 'failed', failure: { stage: 'VerifyCounts', error, message: '10 != 9' } };
        }
        return {};
      };
    const names = STEP_STATES;
    const handlers: Record<string, (input: never) => Promise<unknown>> = Object.fromEntries(
      names.map((n) => [n, step(n)]),
    );
    handlers[ROUTING_STATE.publishAlert] = async (params: never) => {
      if (fail.publishFails) throw failWith('SNS.InternalErrorException', 'SNS is down');
      published.push(params);
      return { MessageId: 'local' };
    };
    const execution = new StateMachine(definition as never, { validationOptions: { checkArn: false } }).run(
      { pipeline: 'incremental' } as never,
      {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          retryIntervalOverrides: Object.fromEntries(
            [...names, ROUTING_STATE.publishAlert].map((n) => [n, 0]),
          ),
        },
        context: { Execution: { Id: 'arn:aws:states:local:000000000000:execution:tally:test' } } as never,
      },
    );
    const result: { status: 'succeeded' | 'failed'; output?: unknown; error?: string } =
      await execution.result.then(
        (output: unknown) => ({ status: 'succeeded' as const, output }),
        (err: { cause?: { name?: string } }) => ({ status: 'failed' as const, error: err.cause?.name }),
      );
    return { ...result, calls, published };
  }

  it('ends succeeded with one outcome per table and no alert when every table closes', async () => {
    const run = await execute({});
    expect(run.status).toBe('succeeded');
    expect(run.published).toEqual([]);
    expect((run as { output: { outcomes: unknown } }).output.outcomes).toEqual([
      { table: 'public.customers', status: 'succeeded' },
      { table: 'sales.orders', status: 'succeeded' },
    ]);
  });

  it('retries a transient error and hands the retry its attempt number', async () => {
    const run = await execute({ transientOnce: 'sales.orders' });
    expect(run.status).toBe('succeeded');
    expect(run.calls).toContain('CountSource(sales.orders)#0');
    expect(run.calls).toContain('CountSource(sales.orders)#1');
    expect(run.calls).toContain('ExportToS3(sales.orders)#0');
  });

  it('audits a count mismatch as a failure, publishes one alert, audits the alert and fails', async () => {
    const run = await execute({ table: 'sales.orders' });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('TransferFailed');
    expect(run.calls.filter((c) => c.startsWith('VerifyCounts(sales.orders)'))).toEqual([
      'VerifyCounts(sales.orders)#0',
    ]);
    expect(run.calls).toContain('AuditFailure(sales.orders)#0');
    expect(run.calls).toContain('AuditSuccess(public.customers)#0');
    expect(run.published).toHaveLength(1);
    expect(run.published[0]).toMatchObject({ Subject: 'Tally: test alert' });
    const message = JSON.parse((run.published[0] as { Message: string }).Message) as { outcomes: unknown };
    expect(message.outcomes).toEqual([
      { table: 'public.customers', status: 'succeeded' },
      {
        table: 'sales.orders',
        status: 'failed',
        failure: { stage: 'VerifyCounts', error: 'CountMismatchError', message: '10 != 9' },
      },
    ]);
    expect(run.calls.filter((c) => c.startsWith('AuditAlert'))).toEqual(['AuditAlert#0']);
  });

  it('still publishes a short alert naming the execution when the alert cannot be composed', async () => {
    const run = await execute({ table: 'sales.orders', composeFails: true });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('TransferFailed');
    expect(run.published).toHaveLength(1);
    const published = run.published[0] as { Subject: string; Message: string };
    expect(published.Subject).toBe('Tally: a run failed');
    expect(published.Message).toContain('could not be written (InvalidInputError)');
    expect(published.Message).toContain('arn:aws:states:local:000000000000:execution:tally:test');
    expect(run.calls.filter((c) => c.startsWith('AuditAlert'))).toEqual(['AuditAlert#0']);
  });

  it('fails as TransferFailedUnalerted, recording no alert event, when the alert cannot be published', async () => {
    const run = await execute({ table: 'sales.orders', publishFails: true });
    expect(run.status).toBe('failed');
    // The rule on the execution's status alerts on this error from outside the definition.
    expect(run.error).toBe('TransferFailedUnalerted');
    expect(run.published).toEqual([]);
    expect(run.calls.some((c) => c.startsWith('AuditAlert'))).toBe(false);
  });

  it('ends a table another execution holds as skipped, once its waits are spent, with no alert', async () => {
    const run = await execute({ busy: 'sales.orders' });
    expect(run.status).toBe('succeeded');
    expect(run.published).toEqual([]);
    expect(run.calls.filter((c) => c.startsWith('CountSource(sales.orders)')).length).toBeGreaterThan(1);
    expect(run.calls).toContain('AuditFailure(sales.orders)#0');
    expect(run.calls.some((c) => c.startsWith('ExportToS3(sales.orders)'))).toBe(false);
    expect((run as { output: { outcomes: unknown } }).output.outcomes).toEqual([
      { table: 'public.customers', status: 'succeeded' },
      { table: 'sales.orders', status: 'skipped' },
    ]);
  });

  it('counts a table as failed and alerts when its failure cannot be audited', async () => {
    const run = await execute({ table: 'sales.orders', auditFails: true });
    expect(run.status).toBe('failed');
    expect(run.published).toHaveLength(1);
    const message = JSON.parse((run.published[0] as { Message: string }).Message) as { outcomes: unknown };
    expect(message.outcomes).toEqual([
      { table: 'public.customers', status: 'succeeded' },
      {
        table: 'sales.orders',
        status: 'failed',
        failure: {
          stage: 'AuditFailure',
          error: 'CountMismatchError',
          message:
            'the table failed with CountMismatchError, and its failure event could not be written (WarehouseUnavailableError): the audit log may lack it',
        },
      },
    ]);
  });

  it('alerts when planning fails and ends failed without running any table', async () => {
    const run = await execute({ plan: true });
    expect(run.status).toBe('failed');
    expect(run.error).toBe('TransferFailed');
    expect(run.published).toHaveLength(1);
    // ComposeAlert is handed the execution's input with Plan's error: no table's run state exists.
    expect(run.calls).toEqual(['Plan#0', 'ComposeAlert#0']);
    const seen = JSON.parse((run.published[0] as { Message: string }).Message) as Record<string, unknown>;
    expect(seen).toMatchObject({ pipeline: 'incremental', error: { Error: 'InvalidInputError' } });
    expect(seen.outcomes).toBeUndefined();
  });
});
