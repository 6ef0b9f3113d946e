// What travels between the steps of the state machine: the execution input and each step's input and
// output. Payloads carry table names, window bounds, S3 keys and counts, never rows.
import { z } from 'zod';
import { PIPELINES } from '../domain/audit';
import { MAX_BOUND_LENGTH } from '../domain/chunks';
import { DELETE_MODES } from '../domain/deletes';
import type { ResolvedTable } from '../domain/table';
import type { Window } from '../domain/window';

/** What a user or the schedule starts an execution with. */
export const executionInputSchema = z
  .object({
    pipeline: z.enum(PIPELINES),
    /** Tables to transfer (`schema.name` or `name`); all configured tables when omitted. */
    tables: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type ExecutionInput = z.infer<typeof executionInputSchema>;

/** Every step is told which execution, which state and which attempt it is running in. */
export const invocationSchema = z.object({
  executionId: z.string().min(1),
  /** The state's name in the definition (`$$.State.Name`): the registry has more than one for a step. */
  stateName: z.string().min(1),
  /** 0 on the first attempt; `$$.State.RetryCount` in the definition. */
  attempt: z.number().int().min(0),
  /** When the execution started (`$$.Execution.StartTime`). */
  executionStartedAt: z.string().optional(),
  /**
   * The state machine's timeout, a literal in the payload: with the start, when the execution ends at
   * the latest, which is as long as a table's lease need last.
   */
  executionTimeoutSeconds: z.number().int().positive().optional(),
});

/**
 * How long the step's invocation took, in milliseconds: set on its output by the step's frame
 * (`frame.ts`), and carried by the table's final audit event (`domain/step-durations.ts`).
 */
const stepMs = z.number().int().min(0).optional();

const windowSchema: z.ZodType<Window> = z.object({ from: z.string().nullable(), to: z.string().nullable() });

/** One column as the source catalog describes it. */
export const columnInfoSchema = z.object({
  name: z.string(),
  pgType: z.string(),
  category: z.string(),
  baseType: z.string(),
  nullable: z.boolean(),
});

/**
 * Where a table's resolved columns are kept while its job runs: an object in the stage that Plan wrote,
 * with the SHA-256 of its content, so the state carries a key instead of a list that grows with the width
 * of the table (100 tables of 200 columns would pass Step Functions' 256 KB; see `steps/columns.ts`).
 */
export const columnsRefSchema = z.object({
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  count: z.number().int().min(1),
});
export type ColumnsRef = z.infer<typeof columnsRefSchema>;

/** A resolved table as the state carries it: everything but its columns, which `columns` points to. */
export type TableRef = Omit<ResolvedTable, 'columns'> & { readonly columns: ColumnsRef };
export const tableRefSchema: z.ZodType<TableRef> = z.object({
  schema: z.string(),
  name: z.string(),
  primaryKey: z.array(z.string()).min(1),
  cursorColumn: z.string(),
  targetName: z.string(),
  cursorKind: z.enum(['timestamp', 'integer']),
  textColumns: z.array(z.string()).optional(),
  deletes: z.enum(DELETE_MODES).optional(),
  columns: columnsRefSchema,
});

/** One table's unit of work, as the Map hands it to each iteration. */
export const tableWorkSchema = z.object({
  jobId: z.string().min(1),
  pipeline: z.enum(PIPELINES),
  /** `schema.name`, as the audit log's SOURCE_TABLE names it. */
  table: z.string().min(1),
  resolved: tableRefSchema,
  window: windowSchema,
  startedAt: z.string(),
  /** How the existing target differs from the source, as Plan found it: the table is refused until fixed. */
  drift: z.array(z.string()).optional(),
  /** An incremental run found no verified window for the table and may not export it whole: refused. */
  noWatermark: z.literal(true).optional(),
});
export type TableWork = z.infer<typeof tableWorkSchema>;

export const planOutputSchema = z.object({
  executionId: z.string(),
  pipeline: z.enum(PIPELINES),
  tables: z.array(tableWorkSchema),
});
export type PlanOutput = z.infer<typeof planOutputSchema>;

/** A bound of a chunk's key range: the leading key column's value as PostgreSQL's text. */
const keyBoundSchema = z.string().max(MAX_BOUND_LENGTH).nullable();

/**
 * One chunk of a chunked historical load, as the Distributed Map hands it out: `[from, to)` of the
 * leading column of its primary key.
 */
export const chunkItemSchema = z.object({
  index: z.number().int().min(0),
  from: keyBoundSchema,
  to: keyBoundSchema,
});
export type ChunkItem = z.infer<typeof chunkItemSchema>;

/**
 * How CountSource split a large historical load: how many chunks, and the item file (JSON array of
 * chunk items) the Distributed Map reads them from, so that the state never carries the list.
 */
export const chunkPlanSchema = z.object({
  count: z.number().int().min(2),
  bucket: z.string().min(1),
  itemsKey: z.string().min(1),
  /** PostgreSQL's estimate of the table's rows the split was sized by. */
  estimatedRows: z.number(),
});
export type ChunkPlan = z.infer<typeof chunkPlanSchema>;

/**
 * A chunked historical load counts no whole table up front (that would be a scan of all of it):
 * `sourceCount` is null then, and each chunk counts its own range in its export's snapshot.
 */
export const countOutputSchema = z.object({
  stepMs,
  sourceCount: z.number().int().min(0).nullable(),
  chunks: chunkPlanSchema.optional(),
});
export type CountOutput = z.infer<typeof countOutputSchema>;
export const exportOutputSchema = z.object({
  stepMs,
  sourceCount: z.number().int().min(0),
  rows: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  compressedBytes: z.number().int().min(0),
  keys: z.array(z.string()),
  /**
   * For an incremental export, the window's upper bound as read in the export's snapshot; for a
   * historical one, the bound its snapshot could see (of a chunked load, the earliest chunk's).
   */
  upper: z.string().nullable(),
  /** A chunked export: its files are listed per chunk in the chunks' manifests, not in `keys`. */
  chunks: z.object({ count: z.number().int().min(2), files: z.number().int().min(0) }).optional(),
});
export type ExportOutput = z.infer<typeof exportOutputSchema>;

/** What one chunk's export leaves in the stage for the load (`steps/chunks.ts`). */
export const chunkManifestSchema = chunkItemSchema.extend({
  sourceCount: z.number().int().min(0),
  rows: z.number().int().min(0),
  rawBytes: z.number().int().min(0),
  compressedBytes: z.number().int().min(0),
  keys: z.array(z.string()),
  /** The rows of each file of `keys`, in the same order. */
  fileRows: z.array(z.number().int().min(0)),
  upper: z.string().nullable(),
});
export type ChunkManifest = z.infer<typeof chunkManifestSchema>;

/** What LoadChunk leaves once a chunk is in the load's copy of the target (`steps/chunks.ts`). */
export const chunkLoadSchema = z.object({
  index: z.number().int().min(0),
  rowsParsed: z.number().int().min(0),
  rowsLoaded: z.number().int().min(0),
  files: z.number().int().min(0),
  /** Files the copy's load metadata showed loaded by an earlier attempt, which COPY skipped. */
  skippedFiles: z.number().int().min(0),
});
export type ChunkLoad = z.infer<typeof chunkLoadSchema>;

/** The first chunk of a load that failed after its retries, as its Catch recorded it. */
export const chunkFailureSchema = chunkItemSchema.extend({
  state: z.enum(['ExportChunk', 'LoadChunk']),
  error: z.string(),
  cause: z.string().optional(),
});
export type ChunkFailure = z.infer<typeof chunkFailureSchema>;

/** The swap of a chunked load's copy: the rows the copy and the target held before it, and its phase. */
export const swapRecordSchema = z.object({
  phase: z.enum(['swapping', 'swapped']),
  copyRows: z.number().int().min(0),
  targetRows: z.number().int().min(0),
});
export type SwapRecord = z.infer<typeof swapRecordSchema>;
export const loadOutputSchema = z.object({
  stepMs,
  rowsParsed: z.number().int().min(0),
  rowsLoaded: z.number().int().min(0),
  inserted: z.number().int().min(0).nullable(),
  updated: z.number().int().min(0).nullable(),
  files: z.number().int().min(0),
});
export type LoadOutput = z.infer<typeof loadOutputSchema>;
export const verifyOutputSchema = z.object({
  stepMs,
  targetCount: z.number().int().min(0),
  countMatch: z.literal(true),
  /** Set when the volume guard, in 'warn' mode, found the window's volume anomalous: why. */
  volumeWarning: z.string().optional(),
});
export type VerifyOutput = z.infer<typeof verifyOutputSchema>;

export const valuesOutputSchema = z.object({
  stepMs,
  mode: z.enum(['off', 'sampled', 'full']),
  /** Segment checksums computed on each side, over every level of the bisection. */
  segments: z.number().int().min(0),
  checksumsCompared: z.number().int().min(0),
  /** Keys whose values differ or that the target lacks: 0, or the step failed. */
  mismatches: z.number().int().min(0),
  /** Keys the target holds in the window and the source no longer does there (moved on or deleted). */
  extraKeys: z.number().int().min(0),
  /** Columns not compared: their type has no canonical form. */
  skipped: z.array(z.string()),
});
export type ValuesOutput = z.infer<typeof valuesOutputSchema>;

/**
 * What CheckDeletes found and did. `ran: false` when the check did not run (mode off, a historical job,
 * not due yet, or a window with no bound), with why; else the keys compared on each side below the
 * window's bound, the keys only the target held and the source no longer holds (`found`), how many of
 * them the mode changed in the target (`handled`: deleted or marked; 0 for report), the first of them
 * (`keys`, described), and whether more differed than one check handles (`incomplete`).
 */
export const deletesOutputSchema = z.discriminatedUnion('ran', [
  z.object({ stepMs, ran: z.literal(false), mode: z.enum(DELETE_MODES), reason: z.string() }),
  z.object({
    stepMs,
    ran: z.literal(true),
    mode: z.enum(['report', 'soft', 'propagate']),
    bound: z.string(),
    sourceRows: z.number().int().min(0),
    targetRows: z.number().int().min(0),
    found: z.number().int().min(0),
    handled: z.number().int().min(0),
    /** Keys below the bound the source holds and the target lacks: not deletes, named for a person. */
    missing: z.number().int().min(0),
    keys: z.array(z.string()),
    incomplete: z.boolean(),
  }),
]);
export type DeletesOutput = z.infer<typeof deletesOutputSchema>;

/**
 * One table's chain inside the Map, in order, with the key of the table's state each state's result goes
 * under (the registry's `resultPath`; AuditSuccess replaces the state with the outcome). The definition
 * chains these states, and a failure is placed at the first of them whose result the state lacks.
 */
export const TABLE_CHAIN = [
  { state: 'CountSource', result: 'count' },
  { state: 'ExportToS3', result: 'export' },
  { state: 'LoadSnowflake', result: 'load' },
  { state: 'VerifyCounts', result: 'verify' },
  { state: 'VerifyValues', result: 'values' },
  { state: 'CheckDeletes', result: 'deletes' },
  { state: 'AuditSuccess', result: null },
] as const;

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
  values: valuesOutputSchema.optional(),
  deletes: deletesOutputSchema.optional(),
  /** Inside the Distributed Map of a chunked load: the chunk this iteration exports. */
  chunk: chunkItemSchema.optional(),
  /** Set by a Catch: `{ Error, Cause }`. */
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type TableState = z.infer<typeof tableStateSchema>;

/** What each Map iteration ends with. */
export const tableOutcomeSchema = z.object({
  table: z.string(),
  /** `skipped`: another execution was loading the table; the next run takes it up. */
  status: z.enum(['succeeded', 'failed', 'skipped']),
  /** For a failed table, what the alert tells a person: where it failed and why, the message clipped. */
  failure: z.object({ stage: z.string(), error: z.string(), message: z.string() }).optional(),
});
export type TableOutcome = z.infer<typeof tableOutcomeSchema>;

/**
 * What the Map ends with: the plan's output plus one outcome per table (Map `ResultPath: $.outcomes`).
 * The alert step reads it.
 */
export const runStateSchema = planOutputSchema.extend({ outcomes: z.array(tableOutcomeSchema) });
export type RunState = z.infer<typeof runStateSchema>;

/**
 * The payload of every Lambda task, the same in AWS and locally, plus a literal `mode` for the audit
 * writer. `state` is the execution input for Plan, the table state inside the Map, and the run state for
 * the alert; where each task's result goes is the registry's `resultPath`.
 */
export const STEP_PAYLOAD = {
  'executionId.$': '$$.Execution.Id',
  'stateName.$': '$$.State.Name',
  'attempt.$': '$$.State.RetryCount',
  'executionStartedAt.$': '$$.Execution.StartTime',
  'state.$': '$',
} as const;

/**
 * The payload of a task inside the Distributed Map. Each iteration runs as a child execution of its own
 * in AWS, with its own `$$.Execution`: the execution that holds the table's lease and writes its audit
 * events is the parent's, which the Map's ItemSelector puts into the iteration's state.
 */
export const CHUNK_STEP_PAYLOAD = {
  ...STEP_PAYLOAD,
  'executionId.$': '$.executionId',
  'executionStartedAt.$': '$.executionStartedAt',
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

/**
 * What ComposeAlert is handed: the run state after the Map, or, when planning failed, the execution's
 * input with the Catch's `error`.
 */
export const composeAlertEventSchema = invocationSchema.extend({
  state: z.union([
    runStateSchema,
    z.object({
      pipeline: z.string(),
      error: z.object({ Error: z.string(), Cause: z.string().optional() }),
    }),
  ]),
});
export type ComposeAlertEvent = z.infer<typeof composeAlertEventSchema>;

export const AUDIT_MODES = ['success', 'failure', 'alert'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

export const writeAuditEventSchema = z.discriminatedUnion('mode', [
  invocationSchema.extend({ mode: z.literal('success'), state: tableStateSchema }),
  invocationSchema.extend({ mode: z.literal('failure'), state: tableStateSchema }),
  invocationSchema.extend({ mode: z.literal('alert'), state: runStateSchema }),
]);
export type WriteAuditEvent = z.infer<typeof writeAuditEventSchema>;
