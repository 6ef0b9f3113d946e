// CheckDeletes in the synthesized state machine, run locally against the embedded PostgreSQL, S3 stand-in
// and Snowflake stand-in: a row deleted at the source is found by comparing keys and reported, marked or
// deleted in the target as each table's mode says, on a `deletes` audit event; a row inserted after the
// window's bound, and one updated past it, are not taken for deletes. A soft-deleted row leaves the
// counts and the value check closed, waits for the cadence, and a later MERGE of its key clears its mark.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TableConfig, TallyConfig } from '../../lambdas/config';
import type { DeleteMode } from '../../lambdas/domain/deletes';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import type { StateMachineDefinition } from '../../local/interpreter';
import type { RunPipelineOptions } from '../../local/runner';
import { ownDatabaseConfig } from '../support/audit';
import { wrapping } from '../support/port-overrides';
import { freshDatabase, onDatabase } from '../support/postgres';
import { eventsOfExecution, runQuietly } from '../support/quiet-run';
import { connect, destroy, exec } from '../support/snowflake-client';

const stack = inject('stack');
const label = `deletes_${process.pid}`;
const MODES = ['report', 'soft', 'propagate'] as const satisfies readonly DeleteMode[];
const tableOf = (mode: DeleteMode): TableConfig => ({
  schema: 'public',
  name: `t_${mode}`,
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
  deletes: mode,
});
let url: string;
let config: TallyConfig;
let definition: StateMachineDefinition;

const sql = (text: string) => onDatabase(url, (c) => c.query(text));

async function target(query: string): Promise<Record<string, unknown>[]> {
  const connection = await connect({ ...stack.snowflake, schema: label.toUpperCase() });
  try {
    return (await exec(connection, query)).rows;
  } finally {
    await destroy(connection);
  }
}

const run = (pipeline: 'historical' | 'incremental', extra: Partial<RunPipelineOptions> = {}) =>
  runQuietly({ config, input: { pipeline }, definition, ...extra });

const eventsOf = (executionId: string) => eventsOfExecution(config, executionId);

beforeAll(async () => {
  url = await freshDatabase(label);
  for (const mode of MODES) {
    await sql(
      `CREATE TABLE t_${mode} (id integer PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    // Written two hours ago: below every window's lower bound here (no lookback), until one reaches back.
    await sql(
      `INSERT INTO t_${mode} (id, v, updated_at) SELECT i, 'v' || i, now() - interval '2 hours' FROM generate_series(1, 5) AS i`,
    );
  }
  config = ownDatabaseConfig(label, url, MODES.map(tableOf), { lagSeconds: 0, lookbackSeconds: 0 });
  definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;
}, 120_000);

afterAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

describe('CheckDeletes in the pipeline', () => {
  it('finds a row deleted at the source and reports, marks or deletes it per mode, but not a row inserted or updated past the bound', async () => {
    const historical = await run('historical');
    expect(historical.status).toBe('succeeded');
    // A historical load replaces the target: no check runs, so no deletes event.
    expect((await eventsOf(historical.executionId)).some((e) => e.eventType === 'deletes')).toBe(false);

    for (const mode of MODES) await sql(`DELETE FROM t_${mode} WHERE id = 2`);
    // Once the window's bound is fixed (after the export), a row is inserted and another updated: both
    // are past the bound, so neither is in the target yet, and neither may be taken for a delete.
    const racing = wrapping({
      source: (source) => ({
        export: async (...args: Parameters<typeof source.export>) => {
          const exported = await source.export(...args);
          const name = args[0].name;
          await sql(`INSERT INTO ${name} (id, v) VALUES (100, 'new')`);
          await sql(`UPDATE ${name} SET v = 'moved', updated_at = clock_timestamp() WHERE id = 4`);
          return exported;
        },
      }),
    });
    const incremental = await run('incremental', { wrapPorts: racing });
    expect(incremental.status).toBe('succeeded');
    const events = await eventsOf(incremental.executionId);
    for (const mode of MODES) {
      const table = `public.t_${mode}`;
      const checks = events.filter((e) => e.eventType === 'deletes' && e.sourceTable === table);
      expect(checks, table).toHaveLength(1);
      expect(checks[0], table).toMatchObject({
        status: 'SUCCEEDED',
        windowStart: null,
        // Keys 1, 3 and 5 below the bound at the source (4 moved past it); 1 to 5 in the target.
        recordCountBefore: 3,
        recordCountAfter: 5,
        rowsParsed: 1,
        rowsLoaded: mode === 'report' ? 0 : 1,
        errorType: null,
      });
      expect(checks[0]?.windowEnd, table).not.toBeNull();
      expect(checks[0]?.errorMessage, table).toContain(
        `deletes (${mode}): 1 key(s) gone from the source below`,
      );
      expect(checks[0]?.errorMessage, table).toMatch(/: \(id\)=\(2\)$/);
      const success = events.find((e) => e.eventType === 'success' && e.sourceTable === table);
      expect(success?.errorMessage, table).toContain(`deletes (${mode}): 1 key(s) gone from the source`);
    }
    const ids = async (t: string) =>
      (await target(`SELECT ID FROM ${t} ORDER BY ID`)).map((r) => Number(r.ID));
    // Row 4's update and row 100 came after the export: the next window carries them.
    expect(await ids('T_REPORT')).toEqual([1, 2, 3, 4, 5]);
    expect(await ids('T_PROPAGATE')).toEqual([1, 3, 4, 5]);
    const marks = await target(
      'SELECT ID, "_TALLY_DELETED_AT" IS NOT NULL AS MARKED FROM T_SOFT ORDER BY ID',
    );
    expect(marks.map((r) => [Number(r.ID), r.MARKED])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, false],
      [5, false],
    ]);
  }, 240_000);

  it('keeps the counts and values of a soft-deleting table closed over its marked row, waits for the cadence, and a MERGE of the key clears the mark', async () => {
    // A window reaching back over the marked row: the source has no row 2, the target's is marked.
    const reaching = { ...config, pipeline: { ...config.pipeline, lookbackSeconds: 3 * 3600 } };
    const soft = (cfg: TallyConfig) =>
      run('incremental', { config: cfg, input: { pipeline: 'incremental', tables: ['public.t_soft'] } });
    const again = await soft(reaching);
    expect(again.tables).toEqual([{ table: 'public.t_soft', status: 'succeeded' }]);
    const events = await eventsOf(again.executionId);
    // Checked within the day (deleteCheckEvery P1D): not due, no second deletes event.
    expect(events.some((e) => e.eventType === 'deletes')).toBe(false);
    const success = events.find((e) => e.eventType === 'success');
    expect(success).toMatchObject({ countMatch: true, recordCountBefore: 5, recordCountAfter: 5 });
    expect(success?.errorMessage).toMatch(/values verified \(full\): .* 0 mismatches/);
    expect(success?.errorMessage).toMatch(/deletes not checked: not due until \S+ \(every P1D\)/);

    // Key 2 is written again at the source: its MERGE clears the mark.
    await sql(`INSERT INTO t_soft (id, v) VALUES (2, 'back')`);
    const back = await soft(config);
    expect(back.status).toBe('succeeded');
    const row = await target('SELECT V, "_TALLY_DELETED_AT" IS NULL AS UNMARKED FROM T_SOFT WHERE ID = 2');
    expect(row).toEqual([{ V: 'back', UNMARKED: true }]);
  }, 240_000);

  it('fails the table at CheckDeletes with DeleteCheckError and alerts when the target changes fewer rows than keys were found', async () => {
    await sql('DELETE FROM t_propagate WHERE id = 5');
    // Due on every run, and a target that deletes nothing of what it is asked to.
    const everyRun: TallyConfig = {
      ...config,
      tables: config.tables.map((t) => (t.name === 't_propagate' ? { ...t, deleteCheckEvery: 'PT0S' } : t)),
    };
    const deletingNothing = wrapping({ warehouse: () => ({ deleteKeys: async () => 0 }) });
    const verdict = await run('incremental', {
      config: everyRun,
      input: { pipeline: 'incremental', tables: ['public.t_propagate'] },
      wrapPorts: deletingNothing,
    });
    expect(verdict.tables).toEqual([
      {
        table: 'public.t_propagate',
        status: 'failed',
        failure: {
          stage: 'CheckDeletes',
          error: 'DeleteCheckError',
          message: expect.stringContaining('1 key(s) are gone from the source'),
        },
      },
    ]);
    expect(verdict.alerts).toHaveLength(1);
    const events = await eventsOf(verdict.executionId);
    expect(events.map((e) => e.eventType)).toEqual(['start', 'failure', 'alert']);
    expect(events[1]).toMatchObject({ errorType: 'DeleteCheckError', countMatch: true });
    expect((await target('SELECT ID FROM T_PROPAGATE WHERE ID = 5')).length).toBe(1);
  }, 240_000);
});
