// The audit-history benchmark: what one incremental run of one small table costs with an audit log that
// holds only that table's own history, against the same run once the log holds `events` more earlier
// events (other tables' windows, a year of history in miniature). A step that reads the whole log makes
// the ratio grow with the log; bounded reads keep it near 1.
import { openSnowflake } from '../lambdas/adapters/snowflake';
import type { TallyConfig } from '../lambdas/config';
import { type AuditEvent, blankEvent, type EventType, sealEvent } from '../lambdas/domain/audit';
import { DEMO_TABLES, seedDemo } from '../local/demo-data';
import { localConfig } from '../local/local-config';
import { runPipeline } from '../local/runner';
import type { StackInfo } from '../local/stack';
import { median } from './stats';

/** The bar: an incremental run with the larger log costs at most this many times one with the small log. */
export const AUDIT_HISTORY_ACCEPTANCE = { maxRatio: 1.25 } as const;

export interface AuditHistorySettings {
  /** Earlier events added to the log between the two measurements. */
  readonly events: number;
  /** Incremental runs measured on each side; the median counts. */
  readonly repeat: number;
}

export interface AuditHistoryReport {
  readonly events: number;
  readonly repeat: number;
  readonly table: string;
  /** Median seconds of one incremental run with the table's own history only. */
  readonly smallLogSeconds: number;
  /** The same with `events` more earlier events in the log. */
  readonly largeLogSeconds: number;
  readonly ratio: number;
  readonly acceptance: { readonly ratio: boolean };
}

const TABLE = DEMO_TABLES.find((t) => t.name === 'customers') ?? DEMO_TABLES[0]!;
const TYPES: EventType[] = ['start', 'success', 'start', 'retry', 'success'];

export async function benchAuditHistory(
  stack: StackInfo,
  settings: AuditHistorySettings,
  log: (line: string) => void,
): Promise<AuditHistoryReport> {
  await seedDemo(stack.postgres.url, { rows: 200, seed: 3 });
  const config: TallyConfig = localConfig(stack, [TABLE], { lagSeconds: 0 });
  const run = async (pipeline: 'historical' | 'incremental') => {
    const started = performance.now();
    const verdict = await runPipeline({
      config,
      input: { pipeline },
      retryIntervalMs: 200,
      printAlert: () => {},
    });
    if (verdict.status !== 'succeeded') {
      throw new Error(
        `the ${pipeline} run of the audit-history benchmark failed: ${verdict.error?.message ?? ''}`,
      );
    }
    return (performance.now() - started) / 1000;
  };
  await run('historical');
  // One unmeasured run warms the connections and the stand-in's caches for both sides alike.
  await run('incremental');
  const measure = async (label: string) => {
    const seconds: number[] = [];
    for (let i = 1; i <= settings.repeat; i++) {
      seconds.push(await run('incremental'));
      log(`  ${label} ${i}/${settings.repeat}: ${seconds.at(-1)?.toFixed(2)} s`);
    }
    return median(seconds);
  };
  const smallLogSeconds = await measure('small log');
  log(`adding ${settings.events.toLocaleString('en-US')} earlier events to the audit log...`);
  await addHistory(config, settings.events);
  const largeLogSeconds = await measure(`log + ${settings.events.toLocaleString('en-US')} events`);
  const ratio = Math.round((largeLogSeconds / smallLogSeconds) * 100) / 100;
  return {
    events: settings.events,
    repeat: settings.repeat,
    table: `${TABLE.schema}.${TABLE.name}`,
    smallLogSeconds: Math.round(smallLogSeconds * 1000) / 1000,
    largeLogSeconds: Math.round(largeLogSeconds * 1000) / 1000,
    ratio,
    acceptance: { ratio: ratio <= AUDIT_HISTORY_ACCEPTANCE.maxRatio },
  };
}

/** Inserts `n` earlier events of fifty other tables, a minute apart, into the audit table. */
async function addHistory(config: TallyConfig, n: number): Promise<void> {
  const warehouse = openSnowflake(config.snowflake, config.s3, { keepWarm: false });
  try {
    const start = Date.now() - n * 60_000;
    let batch: AuditEvent[] = [];
    for (let i = 0; i < n; i++) {
      const table = `history.table_${i % 50}`;
      const type = TYPES[i % TYPES.length] as EventType;
      const input = {
        ...blankEvent({
          jobId: `history-job-${Math.floor(i / 5)}`,
          executionId: `history-execution-${Math.floor(i / 250)}`,
          pipelineName: 'incremental',
          eventType: type,
          status: type === 'success' ? 'SUCCEEDED' : 'RUNNING',
          sourceSystem: 'postgresql',
          targetSystem: 'snowflake',
          sourceTable: table,
          targetTable: `TABLE_${i % 50}`,
          jobStartTime: new Date(start + i * 60_000).toISOString(),
        }),
        recordCountBefore: 1000 + (i % 97),
        recordCountAfter: 1000 + (i % 97),
      };
      batch.push(sealEvent(input, null, new Date(start + i * 60_000)));
      if (batch.length === 5000) {
        await warehouse.audit.insert(batch);
        batch = [];
      }
    }
    await warehouse.audit.insert(batch);
  } finally {
    await warehouse.close();
  }
}
