// Runs the state machine definition the CDK app synthesizes on this machine: each Lambda task bound
// in-process to the same step function its handler wraps, the SNS task to a local notifier, retry waits
// shortened. Tally without AWS Step Functions, against whatever the configuration points at.
import { ulid } from 'ulid';
import type { TallyConfig } from '../lambdas/config';
import type { StepDeps, StepLogger } from '../lambdas/deps';
import { errorName } from '../lambdas/domain/errors';
import { createLineage } from '../lambdas/lineage/lineage';
import type { Lineage, Ports } from '../lambdas/ports';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { LazyPorts, type PortFactories } from '../lambdas/runtime/lazy-ports';
import { resolveLineageSettings } from '../lambdas/runtime/lineage-settings';
import { type ExecutionInput, type TableOutcome, tableOutcomeSchema } from '../lambdas/steps/contract';
import { stepOfState } from '../lambdas/steps/registry';
import { synthesizeDefinition } from '../lib/synthesize-definition';
import { ExecutionError, StateMachine, type StateMachineDefinition } from './interpreter';
import { LocalNotifier, type PublishedAlert } from './notifier';
import { StepDeadline } from './step-deadline';

export type ProgressPhase = 'started' | 'succeeded' | 'failed';

export interface Progress {
  /** The state (step) name, e.g. `ExportToS3`. */
  readonly state: string;
  /** `schema.name` for a step inside the Map; null for Plan and the alert. */
  readonly table: string | null;
  readonly phase: ProgressPhase;
  readonly attempt: number;
  readonly error?: { readonly name: string; readonly message: string };
}

export interface RunPipelineOptions {
  readonly config: TallyConfig;
  readonly input: ExecutionInput;
  /** The ASL to run. Default: what the CDK app synthesizes for this configuration. */
  readonly definition?: StateMachineDefinition;
  /** How to open PostgreSQL, S3 and Snowflake. Default: the Lambdas' adapters, closed when the run ends. */
  readonly factories?: PortFactories;
  /** Wait between retries instead of the definition's backoff. Default 50 ms. */
  readonly retryIntervalMs?: number;
  /** Where published alerts are appended as JSON lines; none when omitted. */
  readonly alertsFile?: string;
  readonly onProgress?: (progress: Progress) => void;
  /** Prints each published alert; default: standard error. */
  readonly printAlert?: (line: string) => void;
  /** Where the steps' warnings go (a Lambda's go to its log); default: standard error. */
  readonly logger?: StepLogger;
  /** Wraps the opened ports, e.g. to inject a fault at a named point. */
  readonly wrapPorts?: (ports: Ports) => Ports;
  /**
   * Per state, how long one invocation may run before it ends with `Sandbox.Timedout`, as its Lambda's
   * timeout would end it; `*` for every state not named. Default: the Lambdas' own timeouts.
   */
  readonly timeLimitsMs?: Readonly<Record<string, number>>;
  /**
   * Where the steps send OpenLineage events; null for nowhere. Default: as the configuration's `lineage`
   * and the OpenLineage variables of this process (OPENLINEAGE_URL, OPENLINEAGE_CONFIG, ...) say.
   */
  readonly lineage?: Lineage | null;
}

export interface Verdict {
  readonly status: 'succeeded' | 'failed';
  readonly executionId: string;
  /** Why the execution failed, as the final Fail state or the failing state reported it. */
  readonly error?: { readonly name: string; readonly message: string };
  readonly tables: readonly TableOutcome[];
  readonly alerts: readonly PublishedAlert[];
}

const LAMBDA_INVOKE = /:states:::lambda:invoke$/;
const SNS_PUBLISH = /:states:::sns:publish$/;

export async function runPipeline(options: RunPipelineOptions): Promise<Verdict> {
  const { config, input } = options;
  // Read before anything runs: a bad OpenLineage setting fails the run at its start.
  const lineage =
    options.lineage !== undefined
      ? (options.lineage ?? undefined)
      : createLineage(resolveLineageSettings(config, process.env));
  const definition =
    options.definition ?? (synthesizeDefinition(config) as unknown as StateMachineDefinition);
  const executionName = `${input.pipeline}-${ulid()}`;
  const executionId = `arn:aws:states:local:000000000000:execution:tally:${executionName}`;
  const opened = new LazyPorts(config, options.factories ?? LOCAL_ADAPTERS);
  const ports = options.wrapPorts ? options.wrapPorts(opened) : opened;
  const deps: StepDeps = {
    config,
    ports,
    now: () => new Date(),
    logger: options.logger ?? STDERR_LOGGER,
    ...(lineage ? { lineage } : {}),
  };
  const notifier = new LocalNotifier(options.alertsFile, options.printAlert);
  const outcomes = new Map<string, TableOutcome>();
  const progress = options.onProgress ?? (() => {});

  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryIntervals: Record<string, number> = {};
  for (const [name, state] of taskStates(definition)) {
    retryIntervals[name] = options.retryIntervalMs ?? 50;
    if (SNS_PUBLISH.test(state.Resource)) {
      handlers[name] = async (params) => {
        const { Subject, Message } = params as { Subject?: string; Message?: unknown };
        const message = typeof Message === 'string' ? Message : JSON.stringify(Message);
        await notifier.publish({ subject: Subject ?? 'Tally alert', message, executionId });
        return { MessageId: ulid() };
      };
      continue;
    }
    const step = stepOfState(name);
    if (!step) throw new Error(`the definition has a task state '${name}' that no step is bound to`);
    // With the optimised integration the function's event is under Payload and its result comes back
    // under Payload; a task naming the function directly passes both through.
    const wrapped = LAMBDA_INVOKE.test(state.Resource);
    const limitMs = timeLimitMs(options.timeLimitsMs, name, step.spec.timeoutSeconds);
    handlers[name] = async (taskInput) => {
      const event = wrapped ? (taskInput as { Payload?: unknown }).Payload : taskInput;
      const shown = describeEvent(event);
      progress({ state: name, table: shown.table, phase: 'started', attempt: shown.attempt });
      const deadline = new StepDeadline(name, limitMs);
      try {
        // The registry's step, not the Lambda handler around it: no secrets fetch, no Powertools logging
        // and no embedded metrics (the handler emits those only in Lambda), so a local run writes its
        // progress and alerts and no metric document.
        const result = await deadline.run(() =>
          step.spec.run(event, { ...deps, ports: deadline.wrap(deps.ports) }),
        );
        const outcome = tableOutcomeSchema.safeParse(result);
        if (outcome.success) outcomes.set(outcome.data.table, outcome.data);
        progress({ state: name, table: shown.table, phase: 'succeeded', attempt: shown.attempt });
        return wrapped ? { Payload: result, StatusCode: 200, ExecutedVersion: '$LATEST' } : result;
      } catch (err) {
        const error = { name: errorName(err), message: err instanceof Error ? err.message : String(err) };
        progress({ state: name, table: shown.table, phase: 'failed', attempt: shown.attempt, error });
        throw err;
      } finally {
        deadline.clear();
      }
    };
  }

  // The interpreter runs a Distributed Map inline; its ItemReader reads the item file from the stage,
  // the same object and bucket the Map reads in AWS.
  const itemReaders: Record<string, (reader: ItemReaderCall) => Promise<unknown[]>> = {};
  for (const [name] of itemReaderStates(definition)) {
    itemReaders[name] = (reader) => readItems(deps.ports.stage, name, reader);
  }

  const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: retryIntervals,
      itemReaderLocalHandlers: itemReaders,
    } as never,
    context: {
      Execution: { Id: executionId, Name: executionName, StartTime: new Date().toISOString() },
      StateMachine: { Id: 'arn:aws:states:local:000000000000:stateMachine:tally', Name: 'tally' },
    } as never,
  });
  try {
    await execution.result;
    return { status: 'succeeded', executionId, tables: [...outcomes.values()], alerts: notifier.published };
  } catch (err) {
    return {
      status: 'failed',
      executionId,
      error: executionFailure(err),
      tables: [...outcomes.values()],
      alerts: notifier.published,
    };
  } finally {
    await opened.close();
  }
}

/** Warnings the steps report, one line each on standard error. */
const STDERR_LOGGER: StepLogger = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
};

/** A state's time limit: the option's, else its Lambda's timeout. */
function timeLimitMs(
  limits: Readonly<Record<string, number>> | undefined,
  state: string,
  lambdaTimeoutSeconds: number,
): number {
  const limit = limits?.[state] ?? limits?.['*'] ?? lambdaTimeoutSeconds * 1000;
  if (!(limit > 0)) throw new Error(`the time limit of ${state} must be positive, got ${limit}`);
  return limit;
}

interface TaskState {
  readonly Type: 'Task';
  readonly Resource: string;
}

/** Every Task state of the definition, including those inside Map and Parallel states. */
export function* taskStates(definition: { States: Record<string, unknown> }): Generator<[string, TaskState]> {
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as {
      Type: string;
      Resource?: string;
      ItemProcessor?: { States: Record<string, unknown> };
      Iterator?: { States: Record<string, unknown> };
      Branches?: { States: Record<string, unknown> }[];
    };
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      yield [name, { Type: 'Task', Resource: state.Resource }];
    }
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) yield* taskStates(inner);
    for (const branch of state.Branches ?? []) yield* taskStates(branch);
  }
}

/** What the patched interpreter hands a Map's local item reader. */
interface ItemReaderCall {
  readonly Resource: string;
  readonly ReaderConfig?: { readonly InputType?: string };
  readonly Parameters: { readonly Bucket?: unknown; readonly Key?: unknown };
}

/** Every Map state (at any depth) that reads its items with an ItemReader. */
export function* itemReaderStates(definition: {
  States: Record<string, unknown>;
}): Generator<[string, unknown]> {
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as {
      Type: string;
      ItemReader?: unknown;
      ItemProcessor?: { States: Record<string, unknown> };
    };
    if (state.Type === 'Map' && state.ItemReader !== undefined) yield [name, state.ItemReader];
    if (state.ItemProcessor) yield* itemReaderStates(state.ItemProcessor);
  }
}

/** A JSON item file from the stage, as `arn:aws:states:::s3:getObject` with `InputType: JSON` reads it. */
async function readItems(stage: Ports['stage'], state: string, reader: ItemReaderCall): Promise<unknown[]> {
  const { Bucket, Key } = reader.Parameters;
  if (!/:states:::s3:getObject$/.test(reader.Resource) || reader.ReaderConfig?.InputType !== 'JSON') {
    throw new Error(`${state}: only a JSON item file (s3:getObject, InputType JSON) is read locally`);
  }
  if (Bucket !== stage.bucket || typeof Key !== 'string') {
    throw new Error(
      `${state}: the item file s3://${String(Bucket)}/${String(Key)} is not in the stage's bucket`,
    );
  }
  const items = await stage.getJson<unknown>(Key);
  if (!Array.isArray(items)) throw new Error(`${state}: the item file ${Key} is not a JSON array`);
  return items;
}

function describeEvent(event: unknown): { table: string | null; attempt: number } {
  const e = (event ?? {}) as { attempt?: unknown; state?: { work?: { table?: unknown } } };
  const table = e.state?.work?.table;
  return {
    table: typeof table === 'string' ? table : null,
    attempt: typeof e.attempt === 'number' ? e.attempt : 0,
  };
}

/** The error of a failed execution: a Fail state's Error/Cause, or the error that escaped a state. */
function executionFailure(err: unknown): { name: string; message: string } {
  const cause = err instanceof ExecutionError ? (err.cause as unknown) : err;
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: errorName(err), message: err instanceof Error ? err.message : String(err) };
}
