// OpenLineage from a real local pipeline: the synthesized definition run against the embedded PostgreSQL,
// S3 and Snowflake stand-ins, sending its run events to an endpoint on loopback. Every event must validate
// against the specification's schemas; an endpoint that refuses or hangs must leave the transfer and its
// audit events as they would be without lineage, and the events it missed are sent by the next run.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Stage } from '../../lambdas/adapters/s3';
import type { TallyConfig } from '../../lambdas/config';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { executionRunId, tableRunId } from '../../lambdas/domain/lineage';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import { DEMO_TABLES, type DemoCounts, seedDemo } from '../../local/demo-data';
import type { StateMachineDefinition } from '../../local/interpreter';
import { localConfig } from '../../local/local-config';
import { runPipeline } from '../../local/runner';
import { auditLog } from '../support/audit';
import { type LineageReceiver, lineageReceiver, refusedUrl } from '../support/lineage-receiver';
import { lineageProblems } from '../support/openlineage';
import { wrapping } from '../support/port-overrides';
import { onDatabase } from '../support/postgres';

const stack = inject('stack');
const label = `olin_${process.pid}`;
const API_KEY = 'ol-key-4f1d9a7e0c';
let base: TallyConfig;
let definition: StateMachineDefinition;
let seeded: DemoCounts;
let receiver: LineageReceiver;

interface Sent {
  eventType: string;
  run: { runId: string; facets: Record<string, Record<string, unknown>> };
  job: { namespace: string; name: string };
  inputs: {
    namespace: string;
    name: string;
    inputFacets?: Record<string, { assertions: { success: boolean; name: string }[] }>;
  }[];
  outputs: { namespace: string; name: string; outputFacets?: Record<string, Record<string, unknown>> }[];
}

/** The configuration with lineage sent to `url`, quickly given up on. */
function sendingTo(url: string): TallyConfig {
  return {
    ...base,
    lineage: {
      enabled: true,
      namespace: 'tally',
      producer: 'urn:tally',
      pendingLimit: 1000,
      transport: { type: 'http', url, endpoint: 'api/v1/lineage', apiKey: API_KEY, timeoutMs: 500 },
    },
  };
}

function run(
  config: TallyConfig,
  input: Parameters<typeof runPipeline>[0]['input'],
  extra: Partial<Parameters<typeof runPipeline>[0]> = {},
) {
  const warnings: string[] = [];
  const verdict = runPipeline({
    config,
    input,
    definition,
    retryIntervalMs: 10,
    printAlert: () => {},
    logger: { info: (m) => warnings.push(m), warn: (m) => warnings.push(m) },
    ...extra,
  });
  return verdict.then((v) => ({ ...v, logged: warnings }));
}

const stage = () => new S3Stage(base.s3);
const kept = () => stage().list(`${base.s3.prefix}/lineage/pending/`);
const sentBy = (r: LineageReceiver) => r.received.map((e) => e.body as unknown as Sent);

async function auditOf(executionId: string): Promise<AuditEvent[]> {
  return (await auditLog(base)).filter((e) => e.executionId === executionId);
}

beforeAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label}`));
  await onDatabase(stack.postgres.url, (c) => c.query(`CREATE DATABASE ${label}`));
  const url = new URL(stack.postgres.url);
  url.pathname = `/${label}`;
  seeded = await seedDemo(url.toString(), { rows: 60, seed: 5 });
  const local = localConfig(stack, DEMO_TABLES, { lagSeconds: 0, lookbackSeconds: 300 });
  base = {
    ...local,
    postgres: { ...local.postgres, url: url.toString() },
    s3: { ...local.s3, prefix: label },
    snowflake: { ...local.snowflake, schema: label.toUpperCase() },
  };
  definition = synthesizeDefinition(base) as unknown as StateMachineDefinition;
  receiver = await lineageReceiver();
}, 240_000);

afterAll(async () => {
  await receiver?.close();
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

describe('OpenLineage events of a local run', () => {
  it('start and complete each table job, with the datasets, the parent execution and the counts, all valid', async () => {
    const verdict = await run(sendingTo(receiver.url), { pipeline: 'historical' });
    expect(verdict.status).toBe('succeeded');
    const events = sentBy(receiver);
    for (const event of events) expect(lineageProblems(event)).toEqual([]);
    expect(receiver.received.every((r) => r.path === '/api/v1/lineage')).toBe(true);
    expect(receiver.received.every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
    const [success] = (await auditOf(verdict.executionId)).filter((e) => e.eventType === 'success');
    const pg = new URL(base.postgres.url!);
    for (const table of DEMO_TABLES) {
      const name = `public.${table.name}`;
      const mine = events.filter((e) => e.job.name === `historical.${name}`);
      expect(mine.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
      const [start, complete] = mine as [Sent, Sent];
      expect(start.run.runId).toBe(tableRunId(success!.jobId, name));
      expect(complete.run.runId).toBe(start.run.runId);
      expect(complete.run.facets.parent).toMatchObject({
        run: { runId: executionRunId(verdict.executionId) },
        job: { namespace: 'tally', name: 'historical' },
      });
      expect(complete.inputs).toMatchObject([
        { namespace: `postgres://${pg.hostname}:${pg.port}`, name: `${label}.${name}` },
      ]);
      const rows = seeded[table.name as keyof DemoCounts];
      expect(complete.outputs).toMatchObject([
        {
          namespace: `snowflake://${base.snowflake.account.toLowerCase()}`,
          name: `${base.snowflake.database}.${label.toUpperCase()}.${table.name.toUpperCase()}`,
          outputFacets: {
            outputStatistics: { rowCount: rows, fileCount: expect.any(Number), size: expect.any(Number) },
          },
        },
      ]);
      const assertions = complete.inputs[0]?.inputFacets?.dataQualityAssertions?.assertions ?? [];
      expect(assertions.map((a) => [a.name, a.success])).toEqual([
        ['exported_equals_source', true],
        ['parsed_equals_source', true],
        ['loaded_equals_source', true],
        ['target_equals_source', true],
      ]);
      expect(complete.run.facets.nominalTime?.nominalStartTime).toEqual(expect.any(String));
    }
    expect(verdict.logged.join('\n')).not.toContain(API_KEY);
  });

  it('fails the job of a table whose counts do not close, with the error and the failed assertion', async () => {
    receiver.received.length = 0;
    const shortCount = wrapping({
      warehouse: (warehouse) => ({
        count: async (...args: Parameters<typeof warehouse.count>) => (await warehouse.count(...args)) - 1,
      }),
    });
    const verdict = await run(
      sendingTo(receiver.url),
      { pipeline: 'historical', tables: ['customers'] },
      { wrapPorts: shortCount },
    );
    expect(verdict.status).toBe('failed');
    const events = sentBy(receiver);
    for (const event of events) expect(lineageProblems(event)).toEqual([]);
    expect(events.map((e) => [e.job.name, e.eventType])).toEqual([
      ['historical.public.customers', 'START'],
      ['historical.public.customers', 'FAIL'],
    ]);
    const fail = events[1]!;
    expect(String(fail.run.facets.errorMessage?.message)).toMatch(/^CountMismatchError: .*stage 'target'/);
    const assertions = fail.inputs[0]?.inputFacets?.dataQualityAssertions?.assertions ?? [];
    expect(assertions.find((a) => a.name === 'target_equals_source')?.success).toBe(false);
  });

  it('leaves the transfer and its audit events whole when the endpoint refuses or hangs, and the next run sends what they missed', async () => {
    expect(await kept()).toEqual([]);
    const refused = await run(sendingTo(await refusedUrl()), { pipeline: 'incremental' });
    const hanging = await lineageReceiver({ hang: true });
    let stalled: Awaited<ReturnType<typeof run>>;
    try {
      stalled = await run(sendingTo(hanging.url), { pipeline: 'incremental' });
      // One try per step that sends (Plan, then each table's audit), each ended by the timeout: a step
      // stops sending at its first failure and keeps the rest.
      expect(hanging.requests()).toBeGreaterThan(0);
      expect(hanging.requests()).toBeLessThanOrEqual(1 + DEMO_TABLES.length);
    } finally {
      await hanging.close();
    }
    for (const verdict of [refused, stalled]) {
      expect(verdict.status).toBe('succeeded');
      const audit = await auditOf(verdict.executionId);
      for (const table of DEMO_TABLES) {
        expect(audit.filter((e) => e.sourceTable === `public.${table.name}`).map((e) => e.eventType)).toEqual(
          ['start', 'success'],
        );
      }
      expect(verdict.logged.some((m) => m.startsWith('OpenLineage: ') && m.includes('kept in s3://'))).toBe(
        true,
      );
      expect(verdict.logged.join('\n')).not.toContain(API_KEY);
    }
    // Both runs' START and COMPLETE of every table, kept for later.
    expect(await kept()).toHaveLength(2 * 2 * DEMO_TABLES.length);

    receiver.received.length = 0;
    const next = await run(sendingTo(receiver.url), { pipeline: 'incremental', tables: ['orders'] });
    expect(next.status).toBe('succeeded');
    expect(await kept()).toEqual([]);
    const events = sentBy(receiver);
    for (const event of events) expect(lineageProblems(event)).toEqual([]);
    for (const verdict of [refused, stalled, next]) {
      const parent = executionRunId(verdict.executionId);
      const tables = verdict === next ? ['orders'] : DEMO_TABLES.map((t) => t.name);
      for (const table of tables) {
        const mine = events.filter(
          (e) =>
            e.job.name === `incremental.public.${table}` &&
            (e.run.facets.parent?.run as { runId: string } | undefined)?.runId === parent,
        );
        expect(mine.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
      }
    }
    // The kept events went first, in the order they were kept.
    expect(
      events
        .slice(0, 4 * DEMO_TABLES.length)
        .every(
          (e) =>
            (e.run.facets.parent?.run as { runId: string } | undefined)?.runId !==
            executionRunId(next.executionId),
        ),
    ).toBe(true);
  });
});
