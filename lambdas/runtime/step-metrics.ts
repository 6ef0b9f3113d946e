// The middy middleware that turns what a table's step reports into embedded metrics (CloudWatch EMF,
// through Powertools Metrics): rows and bytes exported, rows loaded, how long the step took, and at
// AuditSuccess the verified window the freshness alarm counts and how far behind it ends. Every function
// also reports its peak memory, and the transient errors the state machine retries. Metrics are an observer: whatever goes wrong in them is logged as a
// warning, never thrown, so no step fails or retries because of them.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { errorName, TallyError } from '../domain/errors';
import { epochMicros } from '../domain/window';
import { exportOutputSchema, loadOutputSchema } from '../steps/contract';
import type { StepName } from '../steps/registry';
import { METRIC_DIMENSIONS, METRICS } from './metric-names';

export interface StepMetricsOptions {
  /** The registry entry the function runs. */
  readonly step: StepName;
  /** Where the metrics go; the handler makes one per function (see `createHandler`). */
  readonly metrics: Metrics;
  /** Where a failure to emit is reported. */
  readonly logger: Pick<Logger, 'warn'>;
  /**
   * The clock the watermark lag is measured with.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * The process's peak resident set size in kilobytes.
   * @default process.resourceUsage().maxRSS
   */
  readonly maxRssKb?: () => number;
}

/**
 * What the middleware reads of a table step's event: only the work's table, pipeline and window and the
 * export's result, the fields every table step carries whatever else the contract holds.
 */
const tableEventSchema = z.object({
  stateName: z.string().min(1),
  executionId: z.string().optional(),
  mode: z.string().optional(),
  state: z.object({
    work: z.object({
      table: z.string().min(1),
      pipeline: z.string().min(1),
      window: z.object({ from: z.string().nullable(), to: z.string().nullable() }),
    }),
    export: z.object({ upper: z.string().nullable() }).optional(),
  }),
});
type TableInvocation = z.infer<typeof tableEventSchema>;

interface Figure {
  readonly name: string;
  readonly unit: (typeof MetricUnit)[keyof typeof MetricUnit];
  readonly value: number;
}

export function stepMetrics(options: StepMetricsOptions): MiddlewareObj<unknown, unknown, Error, Context> {
  const { step, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const maxRssKb = options.maxRssKb ?? (() => process.resourceUsage().maxRSS);
  const started = new WeakMap<object, number>();

  /** Runs `emit`, reporting instead of throwing: metrics must never fail the step. */
  const guarded = (emit: () => void) => {
    try {
      emit();
    } catch (err) {
      metrics.clearMetrics();
      metrics.clearDimensions();
      logger.warn('step metrics not emitted', {
        errorName: errorName(err),
        errorMessage: err instanceof Error ? err.message : String(err),
      });
    }
  };

  const emitFunction = (context: Context, error?: Error) => {
    metrics.addDimension(METRIC_DIMENSIONS.functionName, context.functionName);
    // The peak since the cold start, not a sample now: a step's high-water mark is what comes close to
    // the limit, and it is usually passed mid-step (a part being compressed), not at its end.
    metrics.addMetric(METRICS.maxMemoryUsed, MetricUnit.Megabytes, maxRssKb() / 1024);
    // Lambda counts every thrown error; the function's error alarm leaves out these, which the state
    // machine retries and, on the last attempt, reports as the table's failure anyway.
    if (error instanceof TallyError && error.transient) {
      metrics.addMetric(METRICS.transientErrors, MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
  };

  return {
    before: (request) => {
      started.set(request, now());
    },
    after: (request) => {
      guarded(() => {
        const table = tableEventSchema.safeParse(request.event);
        if (table.success) {
          const invocation = table.data;
          publish(metrics, invocation, figuresOf(step, invocation, request.response, now()));
          const start = started.get(request);
          if (start !== undefined) {
            publish(
              metrics,
              invocation,
              [{ name: METRICS.stepDuration, unit: MetricUnit.Milliseconds, value: now() - start }],
              { [METRIC_DIMENSIONS.step]: invocation.stateName },
            );
          }
        }
        emitFunction(request.context);
      });
    },
    onError: (request) => {
      // A failed step has no figures to report; its memory is all the more worth knowing.
      guarded(() => emitFunction(request.context, request.error ?? undefined));
    },
  };
}

/** One EMF document for the table: the figures under its pipeline and table, and `more` dimensions. */
function publish(
  metrics: Metrics,
  invocation: TableInvocation,
  figures: readonly Figure[],
  more: Readonly<Record<string, string>> = {},
): void {
  if (figures.length === 0) return;
  const { work } = invocation.state;
  metrics.addDimension(METRIC_DIMENSIONS.pipeline, work.pipeline);
  metrics.addDimension(METRIC_DIMENSIONS.table, work.table);
  for (const [name, value] of Object.entries(more)) metrics.addDimension(name, value);
  if (invocation.executionId !== undefined) metrics.addMetadata('executionId', invocation.executionId);
  for (const figure of figures) metrics.addMetric(figure.name, figure.unit, figure.value);
  metrics.publishStoredMetrics();
}

/** The table's figures in a step's result (and, at AuditSuccess, its event). */
function figuresOf(step: StepName, invocation: TableInvocation, result: unknown, nowMs: number): Figure[] {
  if (step === 'exportToS3') {
    const exported = exportOutputSchema.safeParse(result);
    if (!exported.success) return [];
    return [
      { name: METRICS.rowsExported, unit: MetricUnit.Count, value: exported.data.rows },
      { name: METRICS.rawBytes, unit: MetricUnit.Bytes, value: exported.data.rawBytes },
      { name: METRICS.compressedBytes, unit: MetricUnit.Bytes, value: exported.data.compressedBytes },
    ];
  }
  if (step === 'loadSnowflake') {
    const loaded = loadOutputSchema.safeParse(result);
    if (!loaded.success) return [];
    return [{ name: METRICS.rowsLoaded, unit: MetricUnit.Count, value: loaded.data.rowsLoaded }];
  }
  if (step === 'writeAudit' && invocation.mode === 'success') {
    const figures: Figure[] = [{ name: METRICS.verifiedWindows, unit: MetricUnit.Count, value: 1 }];
    const lag = watermarkLagSeconds(invocation, nowMs);
    if (lag !== undefined) figures.push({ name: METRICS.watermarkLag, unit: MetricUnit.Seconds, value: lag });
    return figures;
  }
  return [];
}

/**
 * How far the verified window's end is behind now, in seconds: the window as the success event records
 * it, with the upper bound the export fixed (`windowOf`). None for an integer cursor, whose bound is no
 * time, and none for a window open above (a historical load of the whole table).
 */
function watermarkLagSeconds(invocation: TableInvocation, nowMs: number): number | undefined {
  const { state } = invocation;
  const end = state.export?.upper ?? state.work.window.to;
  if (end === null || /^-?\d+$/.test(end)) return undefined;
  const micros = epochMicros(end);
  if (micros === null) return undefined;
  return (nowMs - Number(micros / 1000n)) / 1000;
}
