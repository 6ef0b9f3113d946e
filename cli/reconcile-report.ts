// What `tally reconcile` runs and prints: the table resolved against the source, the slice from the
// command line, the comparison through the real adapters, and a report a person reads.
import type { TallyConfig } from '../lambdas/config';
import { InvalidInputError } from '../lambdas/domain/errors';
import { describeDifferences, describeKey, isEqual } from '../lambdas/domain/reconcile';
import type { ResolvedTable } from '../lambdas/domain/table';
import { validateWindow, type Window } from '../lambdas/domain/window';
import type { Slice } from '../lambdas/ports';
import { compareValues, type ValueComparison } from '../lambdas/reconcile/compare';
import { LOCAL_ADAPTERS } from '../lambdas/runtime/adapters';
import { CliError, EXIT } from './common';

export interface ReconcileReport {
  readonly table: ResolvedTable;
  readonly slice: Slice;
  readonly result: ValueComparison;
  readonly equal: boolean;
  readonly ms: number;
}

/** The configured table a name means: `schema.name`, or a name only one configured table has. */
function configuredTable(config: TallyConfig, name: string) {
  const matches = config.tables.filter((t) => `${t.schema}.${t.name}` === name || t.name === name);
  if (matches.length === 1 && matches[0]) return matches[0];
  const known = config.tables.map((t) => `${t.schema}.${t.name}`).join(', ');
  throw new CliError(
    matches.length === 0
      ? `--table ${name} is not a configured table (configured: ${known})`
      : `--table ${name} names more than one configured table: give schema.name`,
    EXIT.usage,
  );
}

function sliceOf(table: ResolvedTable, options: { window?: string; since?: string }): Slice {
  let window: Window | null = null;
  if (options.window !== undefined) {
    const parts = options.window.split(',');
    if (parts.length !== 2 || parts.some((p) => p.trim() === '')) {
      throw new CliError(`--window ${options.window}: give two bounds, FROM,TO`, EXIT.usage);
    }
    window = { from: (parts[0] as string).trim(), to: (parts[1] as string).trim() };
  } else if (options.since !== undefined) {
    window = { from: options.since, to: null };
  }
  if (window === null) return { kind: 'all' };
  try {
    return { kind: 'window', window: validateWindow(window, table.cursorKind) };
  } catch (err) {
    throw new CliError(`invalid window on ${table.cursorColumn}: ${(err as Error).message}`, EXIT.usage);
  }
}

export async function reconcileTable(
  config: TallyConfig,
  options: { table: string; window?: string; since?: string; keysOnly?: boolean },
  progress: (line: string) => void,
): Promise<ReconcileReport> {
  const spec = configuredTable(config, options.table);
  const source = LOCAL_ADAPTERS.source(config);
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  try {
    const table = await source.resolve(spec);
    const slice = sliceOf(table, options);
    const started = Date.now();
    progress(
      `reconciling ${spec.schema}.${spec.name} with ${config.snowflake.database}.${config.snowflake.schema}.${table.targetName}…`,
    );
    const result = await compareValues({ source, warehouse: warehouse.warehouse }, table, slice, {
      ...(options.keysOnly ? { keysOnly: true } : {}),
      onProgress: progress,
    });
    return { table, slice, result, equal: isEqual(result), ms: Date.now() - started };
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CliError(err.message, EXIT.usage);
    throw err;
  } finally {
    await warehouse.close();
    await source.close();
  }
}

export function formatReport(report: ReconcileReport): string {
  const { table, slice, result } = report;
  const pk = table.primaryKey;
  const what =
    slice.kind === 'all'
      ? 'the whole table'
      : slice.kind === 'keys'
        ? `${pk.join(', ')} in [${slice.range.from ?? '-∞'}, ${slice.range.to ?? '∞'})`
        : `${table.cursorColumn} in [${slice.window.from ?? '-∞'}, ${slice.window.to ?? '∞'})`;
  const lines = [
    `${table.schema}.${table.name} → ${table.targetName}, ${what}: ${report.equal ? 'equal' : 'DIFFERENT'}`,
    `rows: ${result.sourceRows} in PostgreSQL, ${result.targetRows} in Snowflake; ${result.checksumsCompared} segment checksums compared over ${result.levels} level(s) in ${(report.ms / 1000).toFixed(1)} s`,
    `columns compared: ${result.columns.join(', ')}`,
  ];
  if (result.skipped.length > 0)
    lines.push(`not compared (no canonical form yet): ${result.skipped.join(', ')}`);
  if (!report.equal) {
    lines.push('');
    for (const k of result.missing) lines.push(`missing in Snowflake: ${describeKey(pk, k)}`);
    for (const k of result.extra) lines.push(`only in Snowflake:    ${describeKey(pk, k)}`);
    for (const d of result.differing)
      lines.push(`differs:              ${describeKey(pk, d.key)} in ${d.columns.join(', ')}`);
    for (const s of result.unsplit) lines.push(`differing segment not split further: ${s}`);
    if (result.truncated) lines.push('(more differ than are listed)');
    lines.push('', ...describeDifferences(pk, result, 5));
  }
  return `${lines.join('\n')}\n`;
}
