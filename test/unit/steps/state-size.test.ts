// The state of a wide, many-table run against Step Functions' and SNS's limits: 100 tables of 200 columns,
// every one of them failing with a long error, through Plan, the table steps, the failure audit and the
// alert. The columns live in the stage (`steps/columns.ts`), so the state carries keys, not column lists.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config';
import type { AlertMessage } from '../../../lambdas/domain/alert';
import { PlanRecordError } from '../../../lambdas/domain/errors';
import type { ColumnInfo, ResolvedTable, TableSpec } from '../../../lambdas/domain/table';
import type { PlanOutput, TableOutcome, TableState } from '../../../lambdas/steps/contract';
import { config as baseConfig, FakeSource, fakeDeps, runStep } from '../../support/fakes';

/** Step Functions' limit on a state's input or output, and on a task's payload. */
const STATE_LIMIT_BYTES = 256 * 1024;
/** SNS's limit on a message. */
const SNS_LIMIT_BYTES = 256 * 1024;

const TABLES = 100;
const COLUMNS = 200;

class WideSource extends FakeSource {
  override async resolve(spec: TableSpec): Promise<ResolvedTable> {
    const columns: ColumnInfo[] = Array.from({ length: COLUMNS }, (_, i) => ({
      name: i === 0 ? 'id' : i === 1 ? 'updated_at' : `a_rather_descriptive_column_name_${i}`,
      pgType: i === 1 ? 'timestamp with time zone' : 'numeric(38,9)',
      category: i === 1 ? 'D' : 'N',
      baseType: i === 1 ? 'timestamptz' : 'numeric',
      nullable: i > 1,
    }));
    return { ...spec, targetName: spec.name.toUpperCase(), cursorKind: 'timestamp', columns };
  }
}

function wideRun() {
  const env = fakeDeps();
  const config = parseConfig({
    ...baseConfig,
    tables: Array.from({ length: TABLES }, (_, i) => ({
      schema: 'warehouse_source',
      name: `wide_table_number_${i}`,
      primaryKey: 'id',
      cursorColumn: 'updated_at',
    })),
  });
  const deps = { ...env.deps, config, ports: { ...env.deps.ports, source: new WideSource() } };
  return { ...env, deps };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('a run of 100 tables of 200 columns', () => {
  it('plans a state far below 256 KB, which with the columns inline would not fit at all', async () => {
    const { deps, stage } = wideRun();
    const out = (await runStep(
      'plan',
      { executionId: 'exec-1', attempt: 0, state: { pipeline: 'historical' } },
      deps,
    )) as PlanOutput;
    expect(out.tables).toHaveLength(TABLES);
    expect(bytes(out)).toBeLessThan(STATE_LIMIT_BYTES / 4);
    const inline = out.tables.map((t) => ({
      ...t,
      resolved: {
        ...t.resolved,
        columns: (stage.json.get(t.resolved.columns.key) as { columns: unknown }).columns,
      },
    }));
    expect(bytes({ ...out, tables: inline })).toBeGreaterThan(STATE_LIMIT_BYTES);
  });

  it('ends with 100 failed outcomes still far below 256 KB, and an alert below SNS limit naming every table', async () => {
    const { deps } = wideRun();
    const out = (await runStep(
      'plan',
      { executionId: 'exec-1', attempt: 0, state: { pipeline: 'historical' } },
      deps,
    )) as PlanOutput;
    const outcomes: TableOutcome[] = [];
    for (const work of out.tables) {
      const cause = JSON.stringify({
        errorType: 'WarehouseConversionError',
        errorMessage: `${work.table}: Numeric value 'abc' is not recognized ${'in a very long message '.repeat(400)}`,
        trace: Array.from({ length: 40 }, (_, i) => `    at frame${i} (/var/task/index.mjs:${i}:1)`),
      });
      const state: TableState = {
        work,
        executionId: 'exec-1',
        count: { sourceCount: 10 },
        export: { sourceCount: 10, rows: 10, rawBytes: 1, compressedBytes: 1, keys: ['k'], upper: null },
        error: { Error: 'WarehouseConversionError', Cause: cause },
      };
      // The columns are read back for the target's count after a failed load: the state did not carry them.
      outcomes.push(
        (await runStep(
          'writeAudit',
          { mode: 'failure', executionId: 'exec-1', attempt: 0, state },
          deps,
        )) as TableOutcome,
      );
    }
    expect(outcomes.every((o) => o.status === 'failed' && o.failure?.stage === 'LoadSnowflake')).toBe(true);
    const runState = { ...out, outcomes };
    expect(bytes(runState)).toBeLessThan(STATE_LIMIT_BYTES / 2);

    const alert = (await runStep(
      'composeAlert',
      {
        executionId: 'arn:aws:states:eu-west-1:123456789012:execution:Tally:historical-1',
        attempt: 0,
        state: runState,
      },
      deps,
    )) as AlertMessage;
    expect(Buffer.byteLength(alert.message)).toBeLessThan(SNS_LIMIT_BYTES);
    expect(alert.subject).toBe('Tally: 100 of 100 table(s) failed in the historical run');
    for (const work of out.tables) {
      expect(alert.message).toContain(
        `- ${work.table}: failed at LoadSnowflake with WarehouseConversionError:`,
      );
    }
    expect(alert.message).not.toContain('/var/task');
  });

  it('refuses columns that are gone from the stage or were changed since Plan wrote them', async () => {
    const { deps, stage } = wideRun();
    const out = (await runStep(
      'plan',
      { executionId: 'exec-2', attempt: 0, state: { pipeline: 'historical' } },
      deps,
    )) as PlanOutput;
    const [first, second] = out.tables;
    if (!first || !second) throw new Error('planned no table');
    const state = (work: typeof first): TableState => ({ work, executionId: 'exec-2' });

    const kept = stage.json.get(first.resolved.columns.key) as { columns: ColumnInfo[] };
    stage.json.set(first.resolved.columns.key, {
      ...kept,
      columns: kept.columns.map((c, i) => (i === 5 ? { ...c, pgType: 'text' } : c)),
    });
    const changed = await runStep(
      'countSource',
      { executionId: 'exec-2', attempt: 0, state: state(first) },
      deps,
    ).catch((e) => e);
    expect(changed).toBeInstanceOf(PlanRecordError);
    expect(changed.message).toContain('SHA-256 differs');

    stage.json.delete(second.resolved.columns.key);
    const gone = await runStep(
      'countSource',
      { executionId: 'exec-2', attempt: 0, state: state(second) },
      deps,
    ).catch((e) => e);
    expect(gone).toBeInstanceOf(PlanRecordError);
    expect(gone.message).toContain('gone from the stage');
  });
});
