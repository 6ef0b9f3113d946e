// VerifyValues in the synthesized state machine, run locally over the all-types fixture: a historical run
// verifies every value and says so on its success event; a cell changed in the target behind Tally's back
// (after the load, before the check) fails the table at VerifyValues, naming key and column, and alerts.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TableConfig, TallyConfig } from '../../lambdas/config';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import type { StateMachineDefinition } from '../../local/interpreter';
import { localConfig } from '../../local/local-config';
import { runPipeline } from '../../local/runner';
import { createAllTypes } from '../support/all-types';
import { auditLog } from '../support/audit';
import { wrapping } from '../support/port-overrides';
import { freshDatabase, onDatabase } from '../support/postgres';
import { connect, destroy, exec } from '../support/snowflake-client';

const stack = inject('stack');
const label = `values_${process.pid}`;
const TABLE: TableConfig = {
  schema: 'public',
  name: 'all_types',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
};
let config: TallyConfig;
let definition: StateMachineDefinition;

const run = (extra: Partial<Parameters<typeof runPipeline>[0]> = {}) =>
  runPipeline({
    config,
    input: { pipeline: 'historical' },
    definition,
    retryIntervalMs: 10,
    printAlert: () => {},
    logger: { info: () => {}, warn: () => {} },
    ...extra,
  });

async function eventsOf(executionId: string): Promise<AuditEvent[]> {
  return (await auditLog(config)).filter((e) => e.executionId === executionId);
}

beforeAll(async () => {
  const url = await freshDatabase(label);
  await onDatabase(url, (c) => createAllTypes(c));
  const base = localConfig(stack, [TABLE], { lagSeconds: 0 });
  config = {
    ...base,
    postgres: { ...base.postgres, url },
    s3: { ...base.s3, prefix: label },
    snowflake: { ...base.snowflake, schema: label.toUpperCase() },
  };
  definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;
}, 120_000);

afterAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

describe('VerifyValues in the pipeline', () => {
  it('verifies every value of a historical load and records the figures on the success event', async () => {
    const verdict = await run();
    expect(verdict.status).toBe('succeeded');
    const success = (await eventsOf(verdict.executionId)).find((e) => e.eventType === 'success');
    expect(success?.errorType).toBeNull();
    expect(success?.errorMessage).toMatch(
      /^values verified \(full\): \d+ segment checksums, \d+ compared, 0 mismatches; not compared: c_jsonb \[step ms: CountSource=\d+ ExportToS3=\d+ LoadSnowflake=\d+ VerifyCounts=\d+ VerifyValues=\d+ CheckDeletes=\d+ WriteAudit=\d+\]$/,
    );
  });

  it('fails the table at VerifyValues with the key and column of a cell changed behind its back, and alerts', async () => {
    const alertsFile = join(tmpdir(), `${label}-alerts.jsonl`);
    // The target changed after the load and before the check, by someone other than Tally.
    const tampering = wrapping({
      warehouse: (warehouse) => ({
        replaceWith: async (...args: Parameters<typeof warehouse.replaceWith>) => {
          const loaded = await warehouse.replaceWith(...args);
          const connection = await connect({ ...stack.snowflake, schema: label.toUpperCase() });
          try {
            await exec(connection, "UPDATE ALL_TYPES SET C_TEXT = 'changed' WHERE ID = 4");
          } finally {
            await destroy(connection);
          }
          return loaded;
        },
      }),
    });
    const verdict = await run({ wrapPorts: tampering, alertsFile });
    expect(verdict.status).toBe('failed');
    expect(verdict.tables).toEqual([
      {
        table: 'public.all_types',
        status: 'failed',
        failure: {
          stage: 'VerifyValues',
          error: 'ValueMismatchError',
          message: expect.stringContaining('(id)=(4) in c_text'),
        },
      },
    ]);
    const published = JSON.parse((await readFile(alertsFile, 'utf8')).trim()) as { message: string };
    expect(published.message).toContain(
      '- public.all_types: failed at VerifyValues with ValueMismatchError:',
    );
    const events = await eventsOf(verdict.executionId);
    expect(events.map((e) => e.eventType)).toEqual(['start', 'failure', 'alert']);
    expect(events[1]).toMatchObject({ errorType: 'ValueMismatchError', countMatch: true });
    expect(events[1]?.errorMessage).toContain('1 row(s) with differing values: (id)=(4) in c_text');
  });
});
