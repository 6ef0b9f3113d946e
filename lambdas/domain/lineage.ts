// OpenLineage run events drawn from the audit events: a table's job is an OpenLineage job whose run starts
// with its `start` event and ends with its `success` (COMPLETE), `failure` (FAIL) or `skipped` (ABORT)
// event; the execution is the parent run. Everything an event says comes from the audit event it mirrors.

import { v5 as uuidv5 } from 'uuid';
import type { AuditEvent, EventType } from './audit';
import { LEDGER_STAGES } from './ledger';
import { readStepDurations } from './step-durations';
import { epochMicros } from './window';

/** The version of the OpenLineage specification the events follow (its JSON schema's `$id`). */
export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

/** Each facet's schema, as the specification's facet files name themselves (`$id`), and its definition. */
export const FACET_SCHEMAS = {
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  nominalTime: 'https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet',
  errorMessage:
    'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  outputStatistics:
    'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
  dataQualityAssertions:
    'https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet',
} as const;

export type LineageEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

/** Which audit events have a lineage event, and which: retries and alerts have none. */
const EVENT_TYPE_OF: Partial<Record<EventType, LineageEventType>> = {
  start: 'START',
  success: 'COMPLETE',
  failure: 'FAIL',
  skipped: 'ABORT',
};

/** What names the jobs and datasets, beyond what an audit event holds. */
export interface LineageNaming {
  /** The jobs' namespace, e.g. `tally`. */
  readonly namespace: string;
  /** The `producer` URI of every event and facet. */
  readonly producer: string;
  /** The source's dataset namespace: `postgres://{host}:{port}` (OpenLineage naming). */
  readonly sourceNamespace: string;
  /** The source database: datasets are `{database}.{schema}.{table}`. */
  readonly sourceDatabase: string;
  /** The target's dataset namespace: `snowflake://{account identifier}`. */
  readonly targetNamespace: string;
}

/** Tally's own UUID namespace, under which run ids are derived (RFC 9562 name-based, SHA-1). */
const RUN_ID_NAMESPACE = 'b0d6f3a2-5c1e-4b8f-9a57-3e2d8c4f1a60';

/** A table job's run id: the same for every attempt of that table in that job, so retries reuse it. */
export function tableRunId(jobId: string, sourceTable: string): string {
  return uuidv5(`table-job:${jobId}:${sourceTable}`, RUN_ID_NAMESPACE);
}

/** The execution's run id, the parent of its table jobs' runs. */
export function executionRunId(executionId: string): string {
  return uuidv5(`execution:${executionId}`, RUN_ID_NAMESPACE);
}

/** The OpenLineage job of one table in a pipeline: `<pipeline>.<schema>.<table>`. */
export function tableJobName(event: Pick<AuditEvent, 'pipelineName' | 'sourceTable'>): string {
  return `${event.pipelineName}.${event.sourceTable}`;
}

/** A run event as the specification's RunEvent defines it, with the facets Tally fills in. */
export interface RunEvent {
  readonly eventType: LineageEventType;
  readonly eventTime: string;
  readonly producer: string;
  readonly schemaURL: string;
  readonly run: { readonly runId: string; readonly facets: Record<string, unknown> };
  readonly job: {
    readonly namespace: string;
    readonly name: string;
    readonly facets: Record<string, unknown>;
  };
  readonly inputs: readonly Dataset[];
  readonly outputs: readonly Dataset[];
}

interface Dataset {
  readonly namespace: string;
  readonly name: string;
  readonly inputFacets?: Record<string, unknown>;
  readonly outputFacets?: Record<string, unknown>;
}

/** The run event an audit event stands for; null for the events that have none (retry, alert, no table). */
export function lineageEventOf(event: AuditEvent, naming: LineageNaming): RunEvent | null {
  const eventType = EVENT_TYPE_OF[event.eventType];
  if (eventType === undefined || event.sourceTable === null) return null;
  const facet = (name: keyof typeof FACET_SCHEMAS) => ({
    _producer: naming.producer,
    _schemaURL: FACET_SCHEMAS[name],
  });
  const parentJob = { namespace: naming.namespace, name: event.pipelineName };
  const parentRun = { runId: executionRunId(event.executionId) };
  const runFacets: Record<string, unknown> = {
    // The execution is the root of its table jobs too: nothing schedules it but Step Functions.
    parent: { ...facet('parent'), run: parentRun, job: parentJob, root: { run: parentRun, job: parentJob } },
    nominalTime: { ...facet('nominalTime'), ...nominalTime(event) },
  };
  if (eventType === 'FAIL') {
    runFacets.errorMessage = {
      ...facet('errorMessage'),
      // The error's own message, without the steps' durations the audit event carries after it.
      message: [event.errorType, readStepDurations(event.errorMessage).message]
        .filter((p) => p !== null && p !== '')
        .join(': '),
      programmingLanguage: 'JavaScript',
    };
  }
  const ended = eventType !== 'START';
  const assertions = ended ? ledgerAssertions(event) : [];
  const output: Dataset = {
    namespace: naming.targetNamespace,
    name: event.targetTable ?? '',
    ...(ended && event.rowsLoaded !== null
      ? {
          outputFacets: {
            outputStatistics: {
              ...facet('outputStatistics'),
              rowCount: event.rowsLoaded,
              ...(event.bytes !== null ? { size: event.bytes } : {}),
              ...(event.files !== null ? { fileCount: event.files } : {}),
            },
          },
        }
      : {}),
  };
  const input: Dataset = {
    namespace: naming.sourceNamespace,
    name: `${naming.sourceDatabase}.${event.sourceTable}`,
    // The specification makes the assertions a facet of an input dataset: the count ledger checks that
    // every stage after the source saw the source's rows.
    ...(assertions.length > 0
      ? { inputFacets: { dataQualityAssertions: { ...facet('dataQualityAssertions'), assertions } } }
      : {}),
  };
  return {
    eventType,
    eventTime: event.createdAt,
    producer: naming.producer,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
    run: { runId: tableRunId(event.jobId, event.sourceTable), facets: runFacets },
    job: {
      namespace: naming.namespace,
      name: tableJobName(event),
      facets: {
        jobType: { ...facet('jobType'), processingType: 'BATCH', integration: 'TALLY', jobType: 'JOB' },
      },
    },
    inputs: [input],
    outputs: event.targetTable === null ? [] : [output],
  };
}

/**
 * The run's nominal time: the window on a timestamp cursor (start included, end excluded, as the facet
 * defines it); a whole-table load or an integer cursor has no time window, so the job's start stands in.
 */
function nominalTime(event: AuditEvent): { nominalStartTime: string; nominalEndTime?: string } {
  const from = asInstant(event.windowStart);
  if (from === null) return { nominalStartTime: event.jobStartTime };
  const to = asInstant(event.windowEnd);
  return { nominalStartTime: from, ...(to !== null ? { nominalEndTime: to } : {}) };
}

/** A cursor bound as an ISO 8601 instant, or null when it is not a timestamp (an integer cursor). */
function asInstant(bound: string | null): string | null {
  if (bound === null || /^-?\d+$/.test(bound)) return null;
  const us = epochMicros(bound);
  if (us === null) return null;
  const iso = new Date(Number(us / 1000n)).toISOString();
  const micros = Number(us % 1000n);
  return micros === 0 ? iso : iso.replace(/Z$/, `${String(micros).padStart(3, '0')}Z`);
}

/**
 * The count ledger as assertions: each stage after the source against the source count, one assertion a
 * stage the job reached. A stage the job never reached is not asserted.
 */
function ledgerAssertions(event: AuditEvent): Record<string, unknown>[] {
  const counts: Record<(typeof LEDGER_STAGES)[number], number | null> = {
    source: event.recordCountBefore,
    exported: event.rowsExported,
    parsed: event.rowsParsed,
    loaded: event.rowsLoaded,
    target: event.recordCountAfter,
  };
  const source = counts.source;
  if (source === null) return [];
  return LEDGER_STAGES.filter((stage) => stage !== 'source' && counts[stage] !== null).map((stage) => {
    const actual = counts[stage] as number;
    return {
      assertion: 'row_count',
      name: `${stage}_equals_source`,
      description: `the rows counted at stage '${stage}' equal the rows counted at the source`,
      severity: 'error',
      success: actual === source,
      expected: String(source),
      actual: String(actual),
    };
  });
}
