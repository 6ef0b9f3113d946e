// The names of the embedded metrics the steps emit, shared by the middleware that emits them and the
// construct that alarms and charts them: a name written once, so an alarm cannot watch a metric no step
// emits.

/** The CloudWatch namespace of every Tally metric. */
export const METRICS_NAMESPACE = 'Tally';

/**
 * The environment variable that names the deployment in the `service` dimension Powertools adds to every
 * metric, so two pipelines in one account and region that share a table name do not share its metrics.
 */
export const METRICS_SERVICE_ENV = 'POWERTOOLS_SERVICE_NAME';

/** The `service` dimension when the environment does not name the deployment. */
export const DEFAULT_METRICS_SERVICE = 'tally';

/** The dimensions besides `service`. */
export const METRIC_DIMENSIONS = {
  /** `incremental` or `historical`, as the table's work names it. */
  pipeline: 'Pipeline',
  /** `schema.name`, as the audit log's SOURCE_TABLE names it. */
  table: 'Table',
  /** The state of the definition that ran, e.g. `ExportToS3` or `AuditSuccess`. */
  step: 'Step',
  /** The Lambda function's name, for the memory metric. */
  functionName: 'FunctionName',
} as const;

export const METRICS = {
  /** Rows the export wrote to S3 (Count; Pipeline, Table). */
  rowsExported: 'RowsExported',
  /** Bytes of CSV before compression (Bytes; Pipeline, Table). */
  rawBytes: 'RawBytesExported',
  /** Bytes staged in S3 after compression (Bytes; Pipeline, Table). */
  compressedBytes: 'CompressedBytesExported',
  /** Rows Snowflake loaded (Count; Pipeline, Table). */
  rowsLoaded: 'RowsLoaded',
  /** One per verified window recorded by AuditSuccess (Count; Pipeline, Table): freshness reads it. */
  verifiedWindows: 'VerifiedWindows',
  /** Seconds from the verified window's end to when it was recorded (Seconds; Pipeline, Table). */
  watermarkLag: 'WatermarkLag',
  /** How long a table's step took, when it succeeded (Milliseconds; Pipeline, Table, Step). */
  stepDuration: 'StepDuration',
  /** The function's peak resident memory since its cold start (Megabytes; FunctionName). */
  maxMemoryUsed: 'MaxMemoryUsed',
  /** Errors the state machine retries (Tally's transient errors) the function ended with (Count; FunctionName). */
  transientErrors: 'TransientErrors',
} as const;
