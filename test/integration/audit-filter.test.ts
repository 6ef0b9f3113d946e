// The Snowflake audit table answers each bounded question the steps ask (by execution, by table, by type,
// by id, the newest few of each table) with exactly the events `domain/audit-filter.ts` selects, on the
// Snowflake stand-in through snowflake-sdk.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { type AuditEvent, blankEvent, type EventType, sealEvent } from '../../lambdas/domain/audit';
import { selectEvents } from '../../lambdas/domain/audit-filter';
import type { AuditFilter } from '../../lambdas/ports';
import { localConfig } from '../../local/local-config';

const run = randomBytes(3).toString('hex');
const stack = inject('stack');
const base = localConfig(stack, [
  { schema: 'public', name: 'orders', primaryKey: ['id'], cursorColumn: 'updated_at' },
]);
const snowflake = { ...base.snowflake, schema: `AUDIT_FILTER_${run.toUpperCase()}` };
const warehouse = openSnowflake(snowflake, base.s3, { keepWarm: false });

const TABLES = ['public.orders', 'public.customers', 'sales.lines'];
const TYPES: EventType[] = ['start', 'retry', 'success', 'failure', 'skipped'];

/** 60 events over three tables, two executions and both pipelines, a minute apart, chained. */
function history(): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev: string | null = null;
  for (let i = 0; i < 60; i++) {
    const table = TABLES[i % 3] as string;
    const input = {
      ...blankEvent({
        jobId: `job-${i % 4}`,
        executionId: `exec-${i % 2}`,
        pipelineName: i % 5 === 0 ? 'historical' : 'incremental',
        eventType: TYPES[i % TYPES.length] as EventType,
        status: 'RUNNING',
        sourceSystem: 'postgresql',
        targetSystem: 'snowflake',
        sourceTable: table,
        targetTable: table.split('.')[1]!.toUpperCase(),
        jobStartTime: '2025-01-01T00:00:00.000Z',
      }),
      recordCountBefore: i,
    };
    const e = sealEvent(input, prev, new Date(Date.UTC(2025, 0, 1, 0, i)));
    events.push(e);
    prev = e.rowHash;
  }
  return events;
}

const events = history();

beforeAll(async () => {
  await warehouse.warehouse.bootstrap([], 'gzip');
  await warehouse.audit.insert(events);
}, 60_000);
afterAll(async () => {
  await warehouse.close();
  await closeSnowflakeConnections();
});

const FILTERS: [string, AuditFilter][] = [
  ['an execution', { executionId: 'exec-1' }],
  ["an execution's starts", { executionId: 'exec-0', eventTypes: ['start'] }],
  ['a job and a table', { jobId: 'job-1', table: 'public.customers' }],
  ['a target table', { table: 'ORDERS' }],
  ['ids', { eventIds: [events[3]!.eventId, events[17]!.eventId, 'no-such-id'] }],
  ['since', { since: '2025-01-01T00:45:00.000Z' }],
  ['the newest event', { newest: 1 }],
  ['the newest 7', { newest: 7 }],
  [
    "each table's newest success",
    { sourceTables: TABLES, eventTypes: ['success'], newest: 1, perTable: true },
  ],
  [
    "one table's newest 3 incremental successes",
    { sourceTables: ['sales.lines'], eventTypes: ['success'], pipeline: 'incremental', newest: 3 },
  ],
  [
    'two tables, two of each, of two types',
    { sourceTables: TABLES.slice(0, 2), eventTypes: ['retry', 'failure'], newest: 2, perTable: true },
  ],
];

describe('the Snowflake audit table, read by a bounded filter', () => {
  for (const [name, filter] of FILTERS) {
    it(`selects ${name} as the domain's filter does, oldest first`, async () => {
      const expected = selectEvents(events, filter).map((e) => e.eventId);
      expect(expected.length).toBeGreaterThan(0);
      expect((await warehouse.audit.read(filter)).map((e) => e.eventId)).toEqual(expected);
    });
  }

  it('refuses an empty list rather than reading every event', async () => {
    await expect(warehouse.audit.read({ eventIds: [] })).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringContaining('eventIds is empty'),
    });
  });
});
