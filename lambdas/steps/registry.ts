// The registry of steps: every Lambda of the state machine, as plain data beside its step function. The
// CDK construct (functions, timeouts, memory, secrets, S3 grants), the definition (task names and where
// each result goes), the Lambda handler, the local runner and the tests derive from this one list.
// Adding a step is an entry here plus its step function.

import { checkDeletes } from './check-deletes';
import { composeAlert } from './compose-alert';
import { type AuditMode, composeAlertEventSchema, planEventSchema, writeAuditEventSchema } from './contract';
import { countSource } from './count-source';
import { exportToS3 } from './export-to-s3';
import { type BoundStep, jobStep, tableStep } from './frame';
import { loadSnowflake } from './load-snowflake';
import { plan } from './plan';
import { verifyCounts } from './verify-counts';
import { verifyValues } from './verify-values';
import { writeAudit } from './write-audit';

/**
 * The secrets a step's Lambda may read: the credentials, and the audit checkpoints' HMAC key, which every
 * step that writes audit events needs (a write may end with a checkpoint).
 */
export type StepSecret = 'postgres' | 'snowflake' | 'checkpoint';
/**
 * The S3 prefixes (under `s3.prefix`) a step's Lambda may use: staged part files, the audit mirror, and
 * the tables' resolved columns Plan keeps beside the state (written by Plan, read by the table steps).
 */
export type StepPrefix = 'staging' | 'audit' | 'plans' | 'plans-read' | 'lineage';

/**
 * Where each prefix lives under `s3.prefix`. The plans sit under the staging prefix, so the rule that
 * expires staged files expires them too: a job never outlives the state machine's timeout.
 */
export const STEP_PREFIX_PATHS: Readonly<Record<StepPrefix, string>> = {
  staging: 'staging',
  audit: 'audit',
  plans: 'staging/plans',
  'plans-read': 'staging/plans',
  // OpenLineage events an endpoint did not take, kept for the next run (`lineage/emit.ts`).
  lineage: 'lineage',
};

/** One state of the definition that runs the step. */
export interface StepState {
  readonly name: string;
  /** Where the definition puts the result: `$` replaces the state, null discards the result. */
  readonly resultPath: string | null;
  /** For the audit writer: which event it writes in this state. */
  readonly mode?: AuditMode;
}

export interface StepSpec {
  /** The Lambda's construct id, log name and placeholder ARN name, e.g. `ExportToS3`. */
  readonly functionName: string;
  /** One line, shown as the Lambda's description. */
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly secrets: readonly StepSecret[];
  readonly prefixes: readonly StepPrefix[];
  readonly states: readonly StepState[];
  /** The step: validates its event, then runs (see `frame.ts`). */
  readonly run: BoundStep;
}

export const STEPS = {
  plan: {
    functionName: 'Plan',
    description: 'Tally: validate the input, plan each table and its window',
    timeoutSeconds: 120,
    memoryMb: 512,
    secrets: ['postgres', 'snowflake', 'checkpoint'],
    prefixes: ['audit', 'plans', 'lineage'],
    states: [{ name: 'Plan', resultPath: '$' }],
    run: jobStep(planEventSchema, plan),
  },
  countSource: {
    functionName: 'CountSource',
    description: 'Tally: count the rows of a table window at the source, or split a large historical load',
    timeoutSeconds: 300,
    memoryMb: 512,
    secrets: ['postgres', 'snowflake', 'checkpoint'],
    // plans: the chunk ranges of a split historical load, which the Distributed Map reads.
    prefixes: ['audit', 'plans', 'plans-read'],
    states: [{ name: 'CountSource', resultPath: '$.count' }],
    run: tableStep(countSource),
  },
  exportToS3: {
    functionName: 'ExportToS3',
    description: 'Tally: export a table window to S3 as compressed CSV',
    timeoutSeconds: 900,
    // Compression is the bottleneck and Lambda's CPU share grows with memory.
    memoryMb: 2048,
    secrets: ['postgres', 'snowflake', 'checkpoint'],
    prefixes: ['staging', 'audit', 'plans-read'],
    states: [
      { name: 'ExportToS3', resultPath: '$.export' },
      // Inside the chunks' Distributed Map: the iteration's output is only the chunk's index.
      { name: 'ExportChunk', resultPath: '$' },
      { name: 'GatherChunks', resultPath: '$.export' },
      // A chunk's Catch, in either chunks' Map: records which chunk failed and why, for AuditFailure.
      { name: 'ExportChunkFailed', resultPath: null },
      { name: 'LoadChunkFailed', resultPath: null },
    ],
    run: tableStep(exportToS3),
  },
  loadSnowflake: {
    functionName: 'LoadSnowflake',
    description: 'Tally: COPY or MERGE staged files into Snowflake',
    timeoutSeconds: 900,
    memoryMb: 512,
    secrets: ['snowflake', 'checkpoint'],
    // plans: a chunked load's record of each chunk's load and of the swap.
    prefixes: ['audit', 'plans', 'plans-read'],
    states: [
      { name: 'LoadSnowflake', resultPath: '$.load' },
      // A chunked load: the copy made once, then each chunk loaded into it inside the chunks' load Map.
      { name: 'PrepareCopy', resultPath: null },
      { name: 'LoadChunk', resultPath: '$' },
    ],
    run: tableStep(loadSnowflake),
  },
  verifyCounts: {
    functionName: 'VerifyCounts',
    description: 'Tally: count the target and close the ledger',
    timeoutSeconds: 300,
    memoryMb: 512,
    secrets: ['snowflake', 'checkpoint'],
    prefixes: ['audit', 'plans-read'],
    states: [{ name: 'VerifyCounts', resultPath: '$.verify' }],
    run: tableStep(verifyCounts),
  },
  verifyValues: {
    functionName: 'VerifyValues',
    description: 'Tally: compare the values of source and target by segment checksums',
    timeoutSeconds: 900,
    memoryMb: 512,
    secrets: ['postgres', 'snowflake', 'checkpoint'],
    prefixes: ['audit', 'plans-read'],
    states: [{ name: 'VerifyValues', resultPath: '$.values' }],
    run: tableStep(verifyValues),
  },
  checkDeletes: {
    functionName: 'CheckDeletes',
    description: 'Tally: find keys deleted at the source by comparing keys, and handle them per table',
    timeoutSeconds: 900,
    memoryMb: 512,
    secrets: ['postgres', 'snowflake', 'checkpoint'],
    // plans: the keys a soft or propagating check found gone, kept before it changes the target.
    prefixes: ['audit', 'plans', 'plans-read'],
    states: [{ name: 'CheckDeletes', resultPath: '$.deletes' }],
    run: tableStep(checkDeletes),
  },
  writeAudit: {
    functionName: 'WriteAudit',
    description: 'Tally: append audit events to Snowflake and S3',
    timeoutSeconds: 120,
    memoryMb: 512,
    secrets: ['snowflake', 'checkpoint'],
    prefixes: ['audit', 'plans-read', 'lineage'],
    states: [
      // The success returns the table's outcome, which replaces the iteration's state; the failure keeps
      // the state, so TableFailed reads the table's name whether the audit was written or not.
      { name: 'AuditSuccess', resultPath: '$', mode: 'success' },
      { name: 'AuditFailure', resultPath: '$', mode: 'failure' },
      { name: 'AuditAlert', resultPath: '$.audit', mode: 'alert' },
    ],
    run: jobStep(writeAuditEventSchema, writeAudit),
  },
  composeAlert: {
    functionName: 'ComposeAlert',
    description: 'Tally: write the alert of a failed run for a person to read',
    timeoutSeconds: 30,
    memoryMb: 256,
    secrets: [],
    prefixes: [],
    states: [{ name: 'ComposeAlert', resultPath: '$.alertMessage' }],
    run: jobStep(composeAlertEventSchema, composeAlert),
  },
} as const satisfies Record<string, StepSpec>;

export type StepName = keyof typeof STEPS;
export type StateName = (typeof STEPS)[StepName]['states'][number]['name'];

export const STEP_NAMES = Object.keys(STEPS) as StepName[];

/** The longest Lambda timeout of any step: no Snowflake statement may run longer (see `step-clock.ts`). */
export const LONGEST_STEP_TIMEOUT_SECONDS = Math.max(...STEP_NAMES.map((step) => STEPS[step].timeoutSeconds));

/** One value per step, keyed like the registry. */
export function mapSteps<T>(value: (step: StepName) => T): Record<StepName, T> {
  return Object.fromEntries(STEP_NAMES.map((step) => [step, value(step)])) as Record<StepName, T>;
}

/** The step a state of the definition runs, with that state's settings; undefined for any other state. */
export function stepOfState(
  state: string,
): { readonly step: StepName; readonly spec: StepSpec; readonly state: StepState } | undefined {
  for (const step of STEP_NAMES) {
    const spec: StepSpec = STEPS[step];
    const found = spec.states.find((s) => s.name === state);
    if (found) return { step, spec, state: found };
  }
  return undefined;
}
