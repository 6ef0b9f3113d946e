// The steps' embedded metrics, read as CloudWatch would read them: the EMF documents Powertools writes,
// captured the way its documentation says to (POWERTOOLS_DEV=true with POWERTOOLS_METRICS_DISABLED=false
// sends them to the global console).
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, SourceUnavailableError } from '../../../lambdas/domain/errors';
import { METRICS_NAMESPACE } from '../../../lambdas/runtime/metric-names';
import { stepMetrics } from '../../../lambdas/runtime/step-metrics';
import type { StepName } from '../../../lambdas/steps/registry';

interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

const SERVICE = 'Tally/Pipeline';
const context = { functionName: 'Tally-PipelineExportToS3-abc' } as Context;
const STARTED = Date.parse('2026-03-02T10:00:00.000Z');

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A Metrics whose documents land in `documents`, parsed. */
function captured(): { metrics: Metrics; documents: EmfDocument[] } {
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const documents: EmfDocument[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    documents.push(JSON.parse(String(line)) as EmfDocument);
  });
  return { metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE }), documents };
}

/** A handler whose step returns `result` (or throws it) after `tookMs`, with the metrics middleware. */
function handlerOf(
  step: StepName,
  metrics: Metrics,
  outcome: { result?: unknown; error?: Error; tookMs?: number },
  logger: Pick<Logger, 'warn'> = { warn: () => {} },
) {
  let clock = STARTED;
  return middy(async () => {
    clock += outcome.tookMs ?? 0;
    if (outcome.error) throw outcome.error;
    return outcome.result;
  }).use(stepMetrics({ step, metrics, logger, now: () => clock, maxRssKb: () => 300 * 1024 }));
}

function tableEvent(stateName: string, state: Record<string, unknown> = {}, mode?: string) {
  return {
    executionId: 'arn:aws:states:eu-west-1:123456789012:execution:tally:run-1',
    stateName,
    attempt: 0,
    ...(mode ? { mode } : {}),
    state: {
      executionId: 'run-1',
      work: {
        jobId: 'job-1',
        pipeline: 'incremental',
        table: 'sales.orders',
        window: { from: '2026-03-02T09:25:00.000Z', to: null },
        startedAt: '2026-03-02T09:59:00.000Z',
      },
      ...state,
    },
  };
}

/** The documents that carry `name`, with their one dimension set and the unit of `name`. */
function metric(documents: readonly EmfDocument[], name: string) {
  return documents
    .filter((d) => d[name] !== undefined)
    .map((d) => {
      const directive = d._aws.CloudWatchMetrics[0]!;
      const dims = directive.Dimensions[0]!;
      return {
        namespace: directive.Namespace,
        dimensions: Object.fromEntries(dims.map((k) => [k, d[k]])),
        unit: directive.Metrics.find((m) => m.Name === name)?.Unit,
        value: d[name],
      };
    });
}

const TABLE = { service: SERVICE, Pipeline: 'incremental', Table: 'sales.orders' };
const EXPORTED = {
  sourceCount: 1200,
  rows: 1200,
  rawBytes: 98_304,
  compressedBytes: 20_480,
  keys: ['tally/staging/a.csv.gz'],
  upper: '2026-03-02T09:58:30.000Z',
};

describe('the step metrics', () => {
  it("reports an export's rows and bytes under its pipeline and table", async () => {
    const { metrics, documents } = captured();
    await handlerOf('exportToS3', metrics, { result: EXPORTED })(tableEvent('ExportToS3'), context);
    expect(metric(documents, 'RowsExported')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Count', value: 1200 },
    ]);
    expect(metric(documents, 'RawBytesExported')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Bytes', value: 98_304 },
    ]);
    expect(metric(documents, 'CompressedBytesExported')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Bytes', value: 20_480 },
    ]);
    // The execution is searchable in the log line, not a dimension (one metric per run would be).
    expect(documents.find((d) => d.RowsExported !== undefined)?.executionId).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:tally:run-1',
    );
  });

  it("times the table's step under its state, and reports the function's peak memory", async () => {
    const { metrics, documents } = captured();
    await handlerOf('exportToS3', metrics, { result: EXPORTED, tookMs: 4_250 })(
      tableEvent('ExportToS3'),
      context,
    );
    expect(metric(documents, 'StepDuration')).toEqual([
      {
        namespace: 'Tally',
        dimensions: { ...TABLE, Step: 'ExportToS3' },
        unit: 'Milliseconds',
        value: 4_250,
      },
    ]);
    expect(metric(documents, 'MaxMemoryUsed')).toEqual([
      {
        namespace: 'Tally',
        dimensions: { service: SERVICE, FunctionName: 'Tally-PipelineExportToS3-abc' },
        unit: 'Megabytes',
        value: 300,
      },
    ]);
  });

  it('reports the rows Snowflake loaded', async () => {
    const { metrics, documents } = captured();
    const loaded = { rowsParsed: 1200, rowsLoaded: 1187, inserted: 1000, updated: 187, files: 1 };
    await handlerOf('loadSnowflake', metrics, { result: loaded })(
      tableEvent('LoadSnowflake', { export: EXPORTED }),
      context,
    );
    expect(metric(documents, 'RowsLoaded')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Count', value: 1187 },
    ]);
    expect(metric(documents, 'RowsExported')).toEqual([]);
  });

  it("counts a verified window at AuditSuccess, with how far behind now the export's bound is", async () => {
    const { metrics, documents } = captured();
    await handlerOf('writeAudit', metrics, { result: { table: 'sales.orders', status: 'succeeded' } })(
      tableEvent('AuditSuccess', { export: EXPORTED }, 'success'),
      context,
    );
    expect(metric(documents, 'VerifiedWindows')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Count', value: 1 },
    ]);
    // Recorded at 10:00:00, the window ends at the export's 09:58:30.
    expect(metric(documents, 'WatermarkLag')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Seconds', value: 90 },
    ]);
  });

  it('reports no lag for an integer cursor, whose bound is no time, but still counts the window', async () => {
    const { metrics, documents } = captured();
    await handlerOf('writeAudit', metrics, { result: { table: 'sales.orders', status: 'succeeded' } })(
      tableEvent('AuditSuccess', { export: { ...EXPORTED, upper: '1048576' } }, 'success'),
      context,
    );
    expect(metric(documents, 'VerifiedWindows')).toHaveLength(1);
    expect(metric(documents, 'WatermarkLag')).toEqual([]);
  });

  it('counts no verified window at AuditFailure', async () => {
    const { metrics, documents } = captured();
    await handlerOf('writeAudit', metrics, { result: { table: 'sales.orders', status: 'failed' } })(
      tableEvent('AuditFailure', { error: { Error: 'CountMismatchError', Cause: 'no' } }, 'failure'),
      context,
    );
    expect(metric(documents, 'VerifiedWindows')).toEqual([]);
    expect(metric(documents, 'StepDuration').map((m) => m.dimensions.Step)).toEqual(['AuditFailure']);
  });

  it('reports only the memory of a step outside the Map, which names no table', async () => {
    const { metrics, documents } = captured();
    await handlerOf('plan', metrics, {
      result: { executionId: 'run-1', pipeline: 'incremental', tables: [] },
    })({ executionId: 'run-1', stateName: 'Plan', attempt: 0, state: { pipeline: 'incremental' } }, context);
    expect(documents.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name))).toEqual([
      'MaxMemoryUsed',
    ]);
  });

  it("counts a failed step's transient error, which the state machine retries, beside its memory", async () => {
    const { metrics, documents } = captured();
    const error = new SourceUnavailableError('connection refused');
    await expect(handlerOf('exportToS3', metrics, { error })(tableEvent('ExportToS3'), context)).rejects.toBe(
      error,
    );
    expect(metric(documents, 'TransientErrors')).toEqual([
      {
        namespace: 'Tally',
        dimensions: { service: SERVICE, FunctionName: 'Tally-PipelineExportToS3-abc' },
        unit: 'Count',
        value: 1,
      },
    ]);
    // No figures: the step produced none.
    expect(documents.flatMap((d) => d._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name))).toEqual([
      'MaxMemoryUsed',
      'TransientErrors',
    ]);
  });

  it('counts no transient error for a terminal or unnamed one, which the function error alarm is for', async () => {
    const { metrics, documents } = captured();
    for (const error of [
      new InvalidInputError('invalid event: state.work'),
      new TypeError('x is undefined'),
    ]) {
      await expect(
        handlerOf('exportToS3', metrics, { error })(tableEvent('ExportToS3'), context),
      ).rejects.toBe(error);
    }
    expect(metric(documents, 'MaxMemoryUsed')).toHaveLength(2);
    expect(metric(documents, 'TransientErrors')).toEqual([]);
  });

  it('never fails the step when the metrics fail: the failure is logged and the result returned', async () => {
    const { metrics } = captured();
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      throw new RangeError('EMF document too large');
    });
    const warn = vi.fn();
    const handler = handlerOf('exportToS3', metrics, { result: EXPORTED }, { warn } as Pick<Logger, 'warn'>);
    await expect(handler(tableEvent('ExportToS3'), context)).resolves.toEqual(EXPORTED);
    expect(warn).toHaveBeenCalledWith('step metrics not emitted', {
      errorName: 'RangeError',
      errorMessage: 'EMF document too large',
    });
  });

  it('keeps the error of a failed step when the metrics fail too', async () => {
    const { metrics } = captured();
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      throw new RangeError('EMF document too large');
    });
    const error = new SourceUnavailableError('connection refused');
    const warn = vi.fn();
    const handler = handlerOf('exportToS3', metrics, { error }, { warn } as Pick<Logger, 'warn'>);
    await expect(handler(tableEvent('ExportToS3'), context)).rejects.toBe(error);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('emits nothing on the next invocation that an unpublished one left behind', async () => {
    const { metrics, documents } = captured();
    const publish = metrics.publishStoredMetrics.bind(metrics);
    const spy = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementationOnce(() => {
      throw new RangeError('EMF document too large');
    });
    const handler = handlerOf('loadSnowflake', metrics, {
      result: { rowsParsed: 5, rowsLoaded: 5, inserted: 5, updated: 0, files: 1 },
    });
    await handler(tableEvent('LoadSnowflake'), context);
    spy.mockImplementation(publish);
    await handler(tableEvent('LoadSnowflake'), context);
    // The first invocation's RowsLoaded was cleared, not carried into the second's document.
    expect(metric(documents, 'RowsLoaded')).toEqual([
      { namespace: 'Tally', dimensions: TABLE, unit: 'Count', value: 5 },
    ]);
  });
});
