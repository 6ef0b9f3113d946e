// What travels between the steps of the state machine: names of the states, the execution input and each
// step's input and output. Payloads carry table names, window bounds, S3 keys and counts, never rows.
import { z } from 'zod';
import { PIPELINES } from '../domain/audit';

/** State names, shared by the CDK definition, the handlers and the local runner. */
export const STATE = {
  plan: 'Plan',
  transferTables: 'TransferTables',
  countSource: 'CountSource',
  exportToS3: 'ExportToS3',
  loadSnowflake: 'LoadSnowflake',
  verifyCounts: 'VerifyCounts',
  auditSuccess: 'AuditSuccess',
  auditFailure: 'AuditFailure',
  tableFailed: 'TableFailed',
  anyTableFailed: 'AnyTableFailed',
  publishAlert: 'PublishAlert',
  auditAlert: 'AuditAlert',
  failed: 'TransferFailed',
  succeeded: 'TransferSucceeded',
} as const;

/** Each step's Lambda timeout, as the CDK construct sets it; the local runner holds steps to the same. */
export const STEP_TIMEOUT_SECONDS = {
  plan: 120,
  countSource: 300,
  exportToS3: 900,
  loadSnowflake: 900,
  verifyCounts: 300,
  writeAudit: 120,
} as const;

export const TIMEOUT_SECONDS_BY_STATE: Readonly<Record<string, number>> = {
  [STATE.plan]: STEP_TIMEOUT_SECONDS.plan,
  [STATE.countSource]: STEP_TIMEOUT_SECONDS.countSource,
  [STATE.exportToS3]: STEP_TIMEOUT_SECONDS.exportToS3,
  [STATE.loadSnowflake]: STEP_TIMEOUT_SECONDS.loadSnowflake,
  [STATE.verifyCounts]: STEP_TIMEOUT_SECONDS.verifyCounts,
  [STATE.auditSuccess]: STEP_TIMEOUT_SECONDS.writeAudit,
  [STATE.auditFailure]: STEP_TIMEOUT_SECONDS.writeAudit,
  [STATE.auditAlert]: STEP_TIMEOUT_SECONDS.writeAudit,
};

/** What a user or the schedule starts an execution with. */
export const executionInputSchema = z
  .object({
    pipeline: z.enum(PIPELINES),
    /** Tables to transfer (`schema.name` or `name`); all configured tables when omitted. */
    tables: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type ExecutionInput = z.infer<typeof executionInputSchema>;

/** Every step is told which execution and which attempt it is running in. */
export const invocationSchema = z.object({
  executionId: z.string().min(1),
  /** 0 on the first attempt; `$$.State.RetryCount` in the definition. */
  attempt: z.number().int().min(0),
});

const windowSchema = z.object({ from: z.string().nullable(), to: z.string().nullable() });

/** A table as Plan resolved it against the source catalog, so later steps need not ask again. */
export const resolvedTableSchema = z.object({
  schema: z.string(),
  name: z.string(),
  primaryKey: z.array(z.string()).min(1),
  cursorColumn: z.string(),
  targetName: z.string(),
  cursorKind: z.enum(['timestamp', 'integer']),
  columns: z.array(
    z.object({
      name: z.string(),
      pgType: z.string(),
      category: z.string(),
      baseType: z.string(),
      nullable: z.boolean(),
    }),
  ),
});

/** One table's unit of work, as the Map hands it to each iteration. */
export const tableWorkSchema = z.object({
  jobId: z.string().min(1),
  pipeline: z.enum(PIPELINES),
  /** `schema.name`, as the audit log's SOURCE_TABLE names it. */
  table: z.string().min(1),
  resolved: resolvedTableSchema,
  window: windowSchema,
  startedAt: z.string(),
});
export type TableWork = z.infer<typeof tableWorkSchema>;

export const planOutputSchema = z.object({
  executionId: z.string(),
  pipeline: z.enum(PIPELINES),
  tables: z.array(tableWorkSchema),
});
export type PlanOutput = z.infer<typeof planOutputSchema>;

export const countOutputSchema = z.object({ sourceCount: z.number().int().min(0) });
export const exportOutputSchema = z.object({
  sourceCount: z.number().int().min(0),
  rows: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  compressedBytes: z.number().int().min(0),
  keys: z.array(z.string()),
  /** For an incremental export, the window's upper bound as read in the export's snapshot. */
  upper: z.string().nullable(),
});
export const loadOutputSchema = z.object({
  rowsParsed: z.number().int().min(0),
  rowsLoaded: z.number().int().min(0),
  inserted: z.number().int().min(0).nullable(),
  updated: z.number().int().min(0).nullable(),
  files: z.number().int().min(0),
});
export const verifyOutputSchema = z.object({
  targetCount: z.number().int().min(0),
  countMatch: z.literal(true),
  /** Set when the volume guard, in 'warn' mode, found the window's volume anomalous: why. */
  volumeWarning: z.string().optional(),
});

/**
 * The state of one Map iteration as it grows: each step's result is stored under its own key
 * (`ResultPath`), so later steps and the audit writer see everything before them.
 */
export const tableStateSchema = z.object({
  work: tableWorkSchema,
  executionId: z.string(),
  count: countOutputSchema.optional(),
  export: exportOutputSchema.optional(),
  load: loadOutputSchema.optional(),
  verify: verifyOutputSchema.optional(),
  /** Set by a Catch: `{ Error, Cause }`. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type TableState = z.infer<typeof tableStateSchema>;

/** What each Map iteration ends with. */
export const tableOutcomeSchema = z.object({
  table: z.string(),
  status: z.enum(['succeeded', 'failed']),
});
export type TableOutcome = z.infer<typeof tableOutcomeSchema>;

/**
 * What the Map ends with: the plan's output plus one outcome per table (Map `ResultPath: $.outcomes`).
 * The alert step reads it.
 */
export const runStateSchema = planOutputSchema.extend({ outcomes: z.array(tableOutcomeSchema) });
export type RunState = z.infer<typeof runStateSchema>;

/**
 * The payload of every Lambda task, the same in AWS and locally:
 * `{ "executionId.$": "$$.Execution.Id", "attempt.$": "$$.State.RetryCount", "state.$": "$" }`,
 * plus a literal `mode` for the audit writer. `state` is the execution input for Plan, the table state
 * inside the Map, and the run state for the alert. Each task stores its result under its own key
 * (`ResultPath: $.count`, `$.export`, `$.load`, `$.verify`) as the function returned it, without the
 * `lambda:invoke` envelope (`payloadResponseOnly: true`, or unwrap `$.Payload`); AuditSuccess and
 * AuditFailure replace the iteration's state with the table's outcome. The local runner accepts both the
 * function ARN and `arn:aws:states:::lambda:invoke` as a task's Resource.
 */
export const STEP_PAYLOAD = {
  'executionId.$': '$$.Execution.Id',
  'attempt.$': '$$.State.RetryCount',
  'state.$': '$',
} as const;

export const planEventSchema = invocationSchema.extend({
  state: z.unknown(),
  /**
   * The Retry's MaxAttempts, a literal in the Plan task's payload: on the last attempt a transient failure
   * ends the execution, so Plan records it (no table's Catch exists yet).
   */
  maxAttempts: z.number().int().min(0).optional(),
});
export type PlanEvent = z.infer<typeof planEventSchema>;

export const tableEventSchema = invocationSchema.extend({ state: tableStateSchema });
export type TableEvent = z.infer<typeof tableEventSchema>;

export const AUDIT_MODES = ['success', 'failure', 'alert'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

export const writeAuditEventSchema = z.discriminatedUnion('mode', [
  invocationSchema.extend({ mode: z.literal('success'), state: tableStateSchema }),
  invocationSchema.extend({ mode: z.literal('failure'), state: tableStateSchema }),
  invocationSchema.extend({ mode: z.literal('alert'), state: runStateSchema }),
]);
export type WriteAuditEvent = z.infer<typeof writeAuditEventSchema>;
