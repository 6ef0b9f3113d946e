// No audit event is lost: with the real S3 and Snowflake stand-ins, an event the warehouse cannot take
// stays pending in S3 and a later write delivers it, in chain order, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { appendAudit, auditKey, replayPendingAudit } from '../../lambdas/audit/writer';
import type { TallyConfig } from '../../lambdas/config';
import type { StepDeps } from '../../lambdas/deps';
import {
  type AuditEvent,
  type AuditEventInput,
  blankEvent,
  chainOrder,
  verifyChain,
} from '../../lambdas/domain/audit';
import { WarehouseUnavailableError } from '../../lambdas/domain/errors';
import type { Source, WarehousePorts } from '../../lambdas/ports';
import { ownAuditConfig } from '../support/audit';
import { FakeLogger } from '../support/fakes';
import { overriding } from '../support/port-overrides';

const config: TallyConfig = ownAuditConfig('audit-pending');
const stage = new S3Stage(config.s3);
const warehouse = openSnowflake(config.snowflake, config.s3, { keepWarm: false });
/** The same warehouse, at a port nothing listens on. */
const unreachable = openSnowflake({ ...config.snowflake, accessUrl: 'http://127.0.0.1:1' }, config.s3, {
  keepWarm: false,
});

function deps(target: Omit<WarehousePorts, 'close'>): StepDeps {
  const { warehouse, audit, leases } = target;
  const ports = { source: {} as Source, stage, warehouse, audit, leases };
  return { config, ports, now: () => new Date(), logger: new FakeLogger() };
}

/** A warehouse that refuses audit inserts, as one whose service went away mid-step would. */
function refusingInserts(target: WarehousePorts): Omit<WarehousePorts, 'close'> {
  const insert = async () => {
    throw new WarehouseUnavailableError('writing audit events: connection reset (injected)');
  };
  return { ...target, audit: overriding(target.audit, { insert }) };
}

function event(jobId: string, eventType: AuditEventInput['eventType']): AuditEventInput {
  return blankEvent({
    jobId,
    executionId: `exec-${jobId}`,
    pipelineName: 'incremental',
    eventType,
    status: eventType === 'success' ? 'SUCCEEDED' : 'RUNNING',
    sourceSystem: 'postgresql',
    targetSystem: 'snowflake',
    sourceTable: 'public.orders',
    targetTable: 'ORDERS',
    jobStartTime: new Date().toISOString(),
  });
}

/** The events the chain's tail holds undelivered. */
const undelivered = async () =>
  (await stage.getJson<{ undelivered: AuditEvent[] }>(`${config.s3.prefix}/audit/tail.json`))?.undelivered ??
  [];
const ids = (events: readonly AuditEvent[]) => events.map((e) => e.eventId);

beforeAll(() => warehouse.warehouse.bootstrap([], 'gzip'));
afterAll(async () => {
  await Promise.allSettled([warehouse.close(), unreachable.close()]);
  await closeSnowflakeConnections();
});

describe('audit events the warehouse cannot take', () => {
  it('are kept in S3, delivered by the next write in chain order once, and the chain verifies', async () => {
    const [first] = await appendAudit(deps(warehouse), [event('J1', 'start')]);

    // The warehouse is unreachable: the step fails as retryable, and its events stay pending in S3.
    const down = appendAudit(deps(unreachable), [event('J1', 'success'), event('J2', 'start')]);
    await expect(down).rejects.toBeInstanceOf(WarehouseUnavailableError);
    expect(await undelivered()).toHaveLength(2);
    expect(ids(await warehouse.audit.read())).toEqual(ids([first!]));

    // Reachable but refusing inserts: a third event is sealed after the two pending ones.
    await expect(appendAudit(deps(refusingInserts(warehouse)), [event('J2', 'retry')])).rejects.toThrow(
      /injected/,
    );
    expect(await undelivered()).toHaveLength(3);

    const [last] = await appendAudit(deps(warehouse), [event('J2', 'success')]);
    expect(await undelivered()).toEqual([]);
    const table = chainOrder(await warehouse.audit.read());
    expect(table.map((e) => [e.jobId, e.eventType])).toEqual([
      ['J1', 'start'],
      ['J1', 'success'],
      ['J2', 'start'],
      ['J2', 'retry'],
      ['J2', 'success'],
    ]);
    expect(new Set(ids(table)).size).toBe(5);
    expect(table.at(-1)?.eventId).toBe(last?.eventId);
    expect(verifyChain(table)).toBeNull();
    // Every event, delivered or not, keeps its JSON copy in S3.
    for (const e of table) {
      expect(await stage.getJson<AuditEvent>(auditKey(deps(warehouse), e))).toEqual(e);
    }
  });

  it('are not inserted twice when the table already took them before they were marked delivered', async () => {
    const [kept] = await appendAudit(deps(refusingInserts(warehouse)), [event('J3', 'start')]).catch(
      () => [] as AuditEvent[],
    );
    expect(kept).toBeUndefined();
    const [pending] = await undelivered();
    // As if a write had crashed right after its insert: the table holds the event, S3 still lists it.
    await warehouse.audit.insert([pending!]);
    await replayPendingAudit(deps(warehouse));
    expect(await undelivered()).toEqual([]);
    const table = chainOrder(await warehouse.audit.read());
    expect(table.filter((e) => e.eventId === pending!.eventId)).toHaveLength(1);
    expect(verifyChain(table)).toBeNull();
  });
});
