// How a step runs, in Lambda and locally alike: its event is validated first; a table's step inside the
// Map then records a retry when this is one and holds the table's lease before it does any work.
import type { z } from 'zod';
import { auditRetry } from '../audit/writer';
import type { StepDeps } from '../deps';
import { NoWatermarkError, SchemaDriftError } from '../domain/errors';
import { holdTable, LEASE_TTL_MS } from '../leases/table-lease';
import { parseEvent, tableEventBase } from './common';
import { type TableEvent, tableEventSchema } from './contract';

/** A step as the registry holds it: any event in, its result out. */
export type BoundStep = (event: unknown, deps: StepDeps) => Promise<unknown>;

/** A step outside the Map (Plan, the alert's audit): only its event is checked before it runs. */
export function jobStep<S extends z.ZodType>(
  schema: S,
  run: (event: z.infer<S>, deps: StepDeps) => Promise<unknown>,
): BoundStep {
  return (raw, deps) => run(parseEvent(schema, raw, 'event'), deps);
}

/** A step of one table inside the Map: a retry says so first, and every step renews the table's lease. */
export function tableStep(run: (event: TableEvent, deps: StepDeps) => Promise<unknown>): BoundStep {
  return async (raw, deps) => {
    const started = performance.now();
    const event = parseEvent(tableEventSchema, raw, 'event');
    await enterTable(event, deps);
    return timed(await run(event, deps), performance.now() - started);
  };
}

/**
 * A step's result with how long its invocation took (`stepMs`), which the table's final audit event
 * carries; a result that is not an object (a chunk's index) is left as it is.
 */
function timed(result: unknown, ms: number): unknown {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return result;
  return { ...result, stepMs: Math.round(ms) };
}

/**
 * What every step of a table does before its work: a table whose target no longer matches its source is
 * refused (nothing may load into the wrong column), and none runs while another execution loads it.
 */
export async function enterTable(event: TableEvent, deps: StepDeps): Promise<void> {
  const { executionId, stateName, attempt, state } = event;
  const { drift, table, noWatermark } = state.work;
  if (noWatermark === true) {
    throw new NoWatermarkError(
      `${table}: no verified window yet, and an incremental run does not export a whole table: run the historical pipeline for it first (tally start --pipeline historical --tables ${table}), or set pipeline.firstIncremental to 'whole-table'`,
    );
  }
  if (drift !== undefined && drift.length > 0) {
    throw new SchemaDriftError(
      `${table}: the Snowflake target no longer matches the source, so nothing is loaded: ${drift.join('; ')}. Alter the target to match (or drop it for Tally to recreate), then run the historical pipeline`,
    );
  }
  const base = tableEventBase(deps, executionId, state.work, 'retry');
  if (attempt > 0) await auditRetry(deps, base, stateName, attempt);
  await holdTable(
    deps,
    { table: state.work.table, executionId, state: stateName, attempt, event: base },
    leaseTtlMs(event, deps.now()),
  );
}

/**
 * How long the table's lease is taken for: until the execution's own timeout when the definition says
 * when that is, so that the lease of an execution that timed out ends when it did; else LEASE_TTL_MS.
 */
export function leaseTtlMs(
  event: Pick<TableEvent, 'executionStartedAt' | 'executionTimeoutSeconds'>,
  now: Date,
): number {
  const { executionStartedAt, executionTimeoutSeconds } = event;
  const started = executionStartedAt === undefined ? Number.NaN : Date.parse(executionStartedAt);
  if (executionTimeoutSeconds === undefined || Number.isNaN(started)) return LEASE_TTL_MS;
  // At least a second: a step still running at its execution's end holds the table no longer than that.
  return Math.max(1000, started + executionTimeoutSeconds * 1000 - now.getTime());
}
