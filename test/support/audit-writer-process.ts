// One audit writer in a process of its own, for the test of the chain across processes: the real writer
// against the S3 stand-in and the Snowflake stand-in, driven by one command a line on stdin and answering
// each with one JSON line on stdout. `append <n> <ms>` appends n events one at a time, as n steps of `ms`
// each would (their warehouse work ends by the step's deadline); `replay <ms>` delivers what earlier
// writes left undelivered; `ready` answers once the writer is loaded; `exit` closes. Run: node --import tsx <this file>,
// with the writer's name and configuration as JSON in TALLY_WRITER.
import { createInterface } from 'node:readline';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { appendAudit, replayPendingAudit } from '../../lambdas/audit/writer';
import type { TallyConfig } from '../../lambdas/config';
import type { StepDeps } from '../../lambdas/deps';
import { blankEvent } from '../../lambdas/domain/audit';
import type { Source, Stage } from '../../lambdas/ports';
import { withStepClock } from '../../lambdas/step-clock';
import { overriding } from './port-overrides';

/** What a command did: how many events it appended, the errors its writes failed with, and how many conditional writes of the tail lost a race. */
export interface WriterAnswer {
  readonly appended: number;
  readonly errors: string[];
  readonly conflicts: number;
}

const { writer, config } = JSON.parse(process.env.TALLY_WRITER ?? '{}') as {
  writer: string;
  config: TallyConfig;
};

const s3 = new S3Stage(config.s3);
let conflicts = 0;
const stage = overriding<Stage>(s3, {
  putJsonIf: async (key, value, expected) => {
    const written = await s3.putJsonIf(key, value, expected);
    if (written === 'conflict') conflicts += 1;
    return written;
  },
});
const target = openSnowflake(config.snowflake, config.s3, { keepWarm: false });
const deps: StepDeps = {
  config,
  ports: {
    source: {} as Source,
    stage,
    warehouse: target.warehouse,
    audit: target.audit,
    leases: target.leases,
  },
  now: () => new Date(),
  logger: { info: () => undefined, warn: () => undefined },
};

let sequence = 0;

/** The writer's next event: its execution id names the writer and the event's number, for the test to count. */
function nextEvent() {
  sequence += 1;
  return blankEvent({
    jobId: `job-${writer}`,
    executionId: `${writer}-${sequence}`,
    pipelineName: 'incremental',
    eventType: 'start',
    status: 'RUNNING',
    sourceSystem: 'postgresql',
    targetSystem: 'snowflake',
    sourceTable: `public.${writer}`,
    targetTable: writer.toUpperCase(),
    jobStartTime: new Date().toISOString(),
  });
}

/** Runs a write as a step would: a failure is reported, and its events stay undelivered in S3. */
async function attempt(stepMs: number, write: () => Promise<unknown>, errors: string[]): Promise<void> {
  try {
    await withStepClock(stepMs, write);
  } catch (err) {
    errors.push((err as Error).name);
  }
}

async function run(command: string): Promise<WriterAnswer> {
  const [verb, ...args] = command.trim().split(/\s+/);
  const stepMs = Number(args.at(-1));
  const before = conflicts;
  const errors: string[] = [];
  let appended = 0;
  if (verb === 'append') {
    for (let i = 0; i < Number(args[0]); i++) {
      await attempt(stepMs, () => appendAudit(deps, [nextEvent()]), errors);
      appended += 1;
    }
  } else if (verb === 'replay') {
    await attempt(stepMs, () => replayPendingAudit(deps), errors);
  } else if (verb !== 'ready') {
    throw new Error(`unknown command ${command}`);
  }
  return { appended, errors, conflicts: conflicts - before };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'exit') break;
  process.stdout.write(`${JSON.stringify(await run(line))}\n`);
}
await target.close();
await closeSnowflakeConnections();
