// The value reconciliation benchmark: the demo's orders table (`--rows` orders) exported to the S3 stand-in
// and loaded into the Snowflake stand-in through the real adapters, then reconciled in full, every column
// (`lambdas/reconcile/compare.ts`), which must find no difference. The reconciliation's time is set against
// the time of that table's export in the same run: how many exports' worth of time proving the values costs.
import { loadavg } from 'node:os';
import type { TallyConfig } from '../lambdas/config';
import type { Compression } from '../lambdas/domain/compression';
import { describeDifferences, isEqual } from '../lambdas/domain/reconcile';
import { compareValues } from '../lambdas/reconcile/compare';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { DEMO_TABLES, seedDemo } from '../local/demo-data';
import { localConfig } from '../local/local-config';
import type { StackInfo } from '../local/stack';
import { medianBy, round } from './stats';

export interface ReconcileBenchSettings {
  /** Orders in the demo: the orders table holds this many rows. */
  readonly orders: number;
  readonly compression: Compression;
  /** Rounds of an export and a reconciliation; the median of each counts. */
  readonly repeat: number;
}

export interface ReconcileBenchRun {
  readonly exportSeconds: number;
  readonly reconcileSeconds: number;
  readonly postgresSeconds: number;
  readonly snowflakeSeconds: number;
}

export interface ReconcileBenchReport {
  readonly orders: number;
  readonly rows: number;
  readonly columns: readonly string[];
  /** Columns whose type has no canonical form yet, counted but not compared (the demo's jsonb). */
  readonly notCompared: readonly string[];
  readonly compression: Compression;
  readonly repeat: number;
  /** The median export of the table to the S3 stand-in (count and COPY in one snapshot, part files, upload). */
  readonly exportSeconds: number;
  /** The load into the Snowflake stand-in, for the record: not part of the ratio. */
  readonly loadSeconds: number;
  /** The median full reconciliation: segment checksums in both databases, no difference to bisect. */
  readonly reconcileSeconds: number;
  /** Of which each side's own statements took (the two sides run at the same time). */
  readonly postgresSeconds: number;
  readonly snowflakeSeconds: number;
  readonly segments: number;
  readonly checksumsCompared: number;
  /** Reconciliation seconds over export seconds. */
  readonly ratio: number;
  /** The 1-, 5- and 15-minute load averages when the reconciliation ended. */
  readonly loadAverage: readonly number[];
  readonly runs: readonly ReconcileBenchRun[];
}

const seconds = (since: number) => (performance.now() - since) / 1000;
const lowerMedian = (xs: readonly number[]) => medianBy(xs, (x) => x);

export async function benchReconcile(
  stack: StackInfo,
  settings: ReconcileBenchSettings,
  log: (line: string) => void,
): Promise<ReconcileBenchReport> {
  log(`seeding the demo with ${settings.orders.toLocaleString('en-US')} orders...`);
  const counts = await seedDemo(stack.postgres.url, { rows: settings.orders, seed: 1 });
  const spec = DEMO_TABLES.find((t) => t.name === 'orders');
  if (spec === undefined) throw new Error('the demo has no orders table');
  const config: TallyConfig = localConfig(stack, [spec], { compression: settings.compression });
  const source = LOCAL_ADAPTERS.source(config);
  const stage = LOCAL_ADAPTERS.stage(config);
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  try {
    const table = await source.resolve(spec);
    await warehouse.warehouse.bootstrap([table], settings.compression.codec);
    const exportOnce = async () => {
      const started = performance.now();
      const exported = await source.export(table, { kind: 'all' }, stage, {
        keyPrefix: `${config.s3.prefix}/staging/bench-reconcile/${Date.now()}`,
        maxFileBytes: config.pipeline.maxFileBytes,
        compression: settings.compression,
      });
      if (exported.rows !== counts.orders) {
        throw new Error(`the export wrote ${exported.rows} rows of ${counts.orders}`);
      }
      return { exported, seconds: seconds(started) };
    };
    const reconcileOnce = async () => {
      const spent = { postgres: 0, snowflake: 0 };
      const started = performance.now();
      const result = await compareValues(
        {
          source: timed(source, spent, 'postgres'),
          warehouse: timed(warehouse.warehouse, spent, 'snowflake'),
        },
        table,
        { kind: 'all' },
        { onProgress: (line) => log(`    ${line}`) },
      );
      if (!isEqual(result) || result.sourceRows !== counts.orders || result.targetRows !== counts.orders) {
        throw new Error(
          `the reconciliation of an unchanged orders table found differences: ${result.sourceRows} source rows, ${result.targetRows} target rows; ${describeDifferences(table.primaryKey, result).join('; ')}`,
        );
      }
      return { result, seconds: seconds(started), spent };
    };

    const runs: ReconcileBenchRun[] = [];
    let loadSeconds = 0;
    let last: Awaited<ReturnType<typeof reconcileOnce>> | undefined;
    for (let n = 1; n <= settings.repeat; n++) {
      // Alternating the two spreads any drift of the machine's load over both.
      const exportRun = await exportOnce();
      if (n === 1) {
        const started = performance.now();
        await warehouse.warehouse.replaceWith(
          table,
          exportRun.exported.files.map((f) => f.key),
        );
        loadSeconds = seconds(started);
        log(`  loaded into the Snowflake stand-in in ${loadSeconds.toFixed(1)} s`);
      }
      last = await reconcileOnce();
      runs.push({
        exportSeconds: exportRun.seconds,
        reconcileSeconds: last.seconds,
        postgresSeconds: last.spent.postgres,
        snowflakeSeconds: last.spent.snowflake,
      });
      log(
        `  round ${n}/${settings.repeat}: export ${exportRun.seconds.toFixed(1)} s, reconciliation ${last.seconds.toFixed(1)} s`,
      );
    }
    if (last === undefined) throw new Error('the benchmark ran no round');
    const exportSeconds = lowerMedian(runs.map((r) => r.exportSeconds));
    const reconcileRun = medianBy(runs, (r) => r.reconcileSeconds);
    return {
      orders: settings.orders,
      rows: counts.orders,
      columns: last.result.columns,
      notCompared: last.result.skipped,
      compression: settings.compression,
      repeat: settings.repeat,
      exportSeconds: round(exportSeconds, 2),
      loadSeconds: round(loadSeconds, 2),
      reconcileSeconds: round(reconcileRun.reconcileSeconds, 2),
      postgresSeconds: round(reconcileRun.postgresSeconds, 2),
      snowflakeSeconds: round(reconcileRun.snowflakeSeconds, 2),
      segments: last.result.segments,
      checksumsCompared: last.result.checksumsCompared,
      ratio: round(reconcileRun.reconcileSeconds / exportSeconds, 2),
      loadAverage: loadavg().map((l) => round(l, 2)),
      runs,
    };
  } finally {
    await warehouse.close();
    await source.close();
  }
}

/** The port with the time its checksum statements take added to `spent[side]`. */
function timed<T extends object, K extends string>(port: T, spent: Record<K, number>, side: K): T {
  return new Proxy(port, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'segmentSums' && name !== 'rowDigests') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          spent[side] += seconds(started);
        }
      };
    },
  });
}
