// `tally audit verify` against the real S3 and Snowflake stand-ins: an untouched log verifies, and each
// way of tampering with it (a value, a row deleted, inserted, two rows swapped, the table rewritten with
// recomputed hashes, the table and its mirror rewritten alike) is found with the event named. The
// attacker is one who can rewrite the audit table and the mirror's event objects; the checkpoints are
// write-once (the S3 stand-in refuses to replace one with a conditional write, as S3 does) and, in AWS,
// under Object Lock, which the stand-in does not enforce.
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { verifyAudit } from '../../cli/audit-log';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { checkpointKey, readCheckpoint, verifiedKey } from '../../lambdas/audit/anchor';
import { appendAudit, auditKey } from '../../lambdas/audit/writer';
import type { TallyConfig } from '../../lambdas/config';
import { writeConfigFile } from '../../lambdas/config-file';
import type { StepDeps } from '../../lambdas/deps';
import {
  type AuditEvent,
  type AuditEventInput,
  blankEvent,
  chainOrder,
  hashEvent,
} from '../../lambdas/domain/audit';
import { buildCheckpoint, type Checkpoint } from '../../lambdas/domain/checkpoint';
import type { Source } from '../../lambdas/ports';
import { ownAuditConfig } from '../support/audit';
import { scratchFolder, tally } from '../support/cli';
import { FakeLogger } from '../support/fakes';
import { type Connection, connect, destroy, exec } from '../support/snowflake-client';

const scratch = scratchFolder('audit-verify');
const opened: Connection[] = [];
afterAll(async () => {
  await Promise.allSettled(opened.map(destroy));
  await closeSnowflakeConnections();
});

const TABLES = ['public.orders', 'public.customers'];

function event(
  jobId: string,
  table: string,
  eventType: AuditEventInput['eventType'],
  n: number,
): AuditEventInput {
  return {
    ...blankEvent({
      jobId,
      executionId: `exec-${jobId}`,
      pipelineName: 'incremental',
      eventType,
      status: eventType === 'success' ? 'SUCCEEDED' : 'RUNNING',
      sourceSystem: 'postgresql',
      targetSystem: 'snowflake',
      sourceTable: table,
      targetTable: table.split('.')[1]?.toUpperCase() ?? null,
      jobStartTime: new Date().toISOString(),
    }),
    ...(eventType === 'success'
      ? { recordCountBefore: n, rowsExported: n, recordCountAfter: n, countMatch: true }
      : {}),
  };
}

interface Log {
  readonly config: TallyConfig;
  readonly configFile: string;
  readonly stage: S3Stage;
  /** The audit table's events in chain order, as written. */
  readonly events: AuditEvent[];
  /** A snowflake-sdk connection to the log's schema: the attacker's. */
  readonly sql: Connection;
  readonly table: string;
}

/**
 * A fresh audit log of three jobs of two tables (18 events), written by the audit writer with a
 * checkpoint every 4 events and at each table's end.
 */
async function writtenLog(tag: string, audit: Partial<TallyConfig['audit']> = {}): Promise<Log> {
  const base = ownAuditConfig(tag);
  const config: TallyConfig = { ...base, audit: { ...base.audit, checkpointEvery: 4, ...audit } };
  const stage = new S3Stage(config.s3);
  const warehouse = openSnowflake(config.snowflake, config.s3, { keepWarm: false });
  try {
    await warehouse.warehouse.bootstrap([], 'gzip');
    const deps: StepDeps = {
      config,
      ports: { source: {} as Source, stage, ...warehouse },
      now: () => new Date(),
      logger: new FakeLogger(),
    };
    for (const job of ['J1', 'J2', 'J3']) {
      for (const [i, table] of TABLES.entries()) {
        await appendAudit(deps, [event(job, table, 'start', 0)]);
        await appendAudit(deps, [event(job, table, 'retry', 0)]);
        await appendAudit(deps, [event(job, table, 'success', 10 + i)]);
      }
    }
    const events = chainOrder(await warehouse.audit.read());
    const stack = inject('stack');
    const sql = await connect({ ...stack.snowflake, schema: config.snowflake.schema });
    opened.push(sql);
    const configFile = scratch.file(`${tag}-${Math.random().toString(16).slice(2)}.json`);
    await writeConfigFile(configFile, config);
    return { config, configFile, stage, events, sql, table: `"${config.snowflake.auditTable}"` };
  } finally {
    await warehouse.close();
  }
}

/** Rewrites the table from event `from` on with hashes computed afresh, as an administrator could. */
async function rehash(log: Log, change: (e: AuditEvent) => AuditEvent): Promise<AuditEvent[]> {
  const rewritten: AuditEvent[] = [];
  let prev: string | null = null;
  for (const original of log.events) {
    const changed = change(original);
    const unsealed: AuditEvent = { ...changed, prevHash: prev };
    const { rowHash: _old, ...content } = unsealed;
    const next: AuditEvent = { ...unsealed, rowHash: hashEvent(content) };
    rewritten.push(next);
    prev = next.rowHash;
  }
  for (const [i, e] of rewritten.entries()) {
    const before = log.events[i] as AuditEvent;
    await exec(
      log.sql,
      `UPDATE ${log.table} SET "RECORD_COUNT_AFTER" = ?, "PREV_HASH" = ?, "ROW_HASH" = ? WHERE "EVENT_ID" = ?`,
      [e.recordCountAfter, e.prevHash, e.rowHash, before.eventId],
    );
  }
  return rewritten;
}

const nth = (log: Log, i: number) => log.events[i] as AuditEvent;

describe('tally audit verify', () => {
  it('passes an untouched log with exit 0, anchored by its checkpoints, and then starts from the last one verified', async () => {
    const log = await writtenLog('verify-intact');
    expect(log.events).toHaveLength(18);
    const run = await tally('audit', 'verify', '--config', log.configFile);
    expect(run.stderr).toMatch(/verified \d+ event/);
    expect(run.stdout).toMatch(/^intact/);
    expect(run.stdout).toContain("checked 18 event(s) from the chain's first event");
    expect(run.code).toBe(0);

    // Each table's end was anchored: nothing delivered is left without a checkpoint.
    const first = await readCheckpoint(logDeps(log), 1);
    expect(first?.fromHash).toBeNull();
    expect(first?.events[0]?.eventId).toBe(nth(log, 0).eventId);
    const record = await log.stage.getJson<{ seq: number; headHash: string }>(verifiedKey(logDeps(log)));
    expect(record?.headHash).toBe(log.events.at(-1)?.rowHash);

    // The next verification starts after that checkpoint: nothing new, nothing read again.
    const again = await verifyAudit(log.config);
    expect(again).toMatchObject({
      intact: true,
      checked: 0,
      start: { from: 'checkpoint', checkpoint: record?.seq },
    });
    const full = await verifyAudit(log.config, { full: true, pageSize: 5 });
    expect(full).toMatchObject({ intact: true, checked: 18, start: { from: 'genesis' } });
  });

  it('names an event whose value was changed, and the column', async () => {
    const log = await writtenLog('verify-changed');
    const victim = nth(log, 5);
    await exec(log.sql, `UPDATE ${log.table} SET "RECORD_COUNT_AFTER" = 99999 WHERE "EVENT_ID" = ?`, [
      victim.eventId,
    ]);
    const run = await tally('audit', 'verify', '--config', log.configFile, '--full');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`BROKEN: changed event ${victim.eventId}`);
    expect(run.stdout).toContain('columns: RECORD_COUNT_AFTER');
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({
      kind: 'changed',
      eventId: victim.eventId,
      columns: ['RECORD_COUNT_AFTER'],
    });
    expect(result.break?.witnesses).toEqual(expect.arrayContaining(['chain', 'mirror']));
  });

  it('names a deleted event', async () => {
    const log = await writtenLog('verify-deleted');
    const victim = nth(log, 7);
    await exec(log.sql, `DELETE FROM ${log.table} WHERE "EVENT_ID" = ?`, [victim.eventId]);
    const result = await verifyAudit(log.config, { full: true });
    expect(result.intact).toBe(false);
    expect(result.break).toMatchObject({ kind: 'removed', eventId: victim.eventId });
  });

  it('names the last event when it was deleted', async () => {
    const log = await writtenLog('verify-deleted-last');
    const victim = log.events.at(-1) as AuditEvent;
    await exec(log.sql, `DELETE FROM ${log.table} WHERE "EVENT_ID" = ?`, [victim.eventId]);
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'removed', eventId: victim.eventId });
  });

  it('names an inserted event', async () => {
    const log = await writtenLog('verify-inserted');
    const after = nth(log, 9);
    const forged = { ...after, eventId: `${after.eventId.slice(0, -1)}Z`, recordCountAfter: 5 };
    const { rowHash: _r, ...content } = forged;
    const sealed = { ...forged, rowHash: hashEvent(content) };
    await exec(
      log.sql,
      `INSERT INTO ${log.table} SELECT * REPLACE (? AS "EVENT_ID", ? AS "RECORD_COUNT_AFTER", ? AS "ROW_HASH") FROM ${log.table} WHERE "EVENT_ID" = ?`,
      [sealed.eventId, 5, sealed.rowHash, after.eventId],
    ).catch(async () => {
      await exec(
        log.sql,
        `INSERT INTO ${log.table} ("EVENT_ID", "JOB_ID", "EXECUTION_ID", "PIPELINE_NAME", "EVENT_TYPE", "STATUS", "SOURCE_SYSTEM", "TARGET_SYSTEM", "SOURCE_TABLE", "TARGET_TABLE", "RECORD_COUNT_AFTER", "JOB_START_TIME", "RETRY_COUNT", "ALERT_TRIGGERED", "PREV_HASH", "ROW_HASH", "CREATED_AT") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::TIMESTAMP_TZ, ?, ?, ?, ?, ?::TIMESTAMP_TZ)`,
        [
          sealed.eventId,
          sealed.jobId,
          sealed.executionId,
          sealed.pipelineName,
          sealed.eventType,
          sealed.status,
          sealed.sourceSystem,
          sealed.targetSystem,
          sealed.sourceTable,
          sealed.targetTable,
          5,
          sealed.jobStartTime,
          sealed.retryCount,
          sealed.alertTriggered,
          sealed.prevHash,
          sealed.rowHash,
          sealed.createdAt,
        ],
      );
    });
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'inserted', eventId: sealed.eventId });
  });

  it('names an event moved before another by swapping their places', async () => {
    const log = await writtenLog('verify-swapped');
    const [a, b] = [nth(log, 3), nth(log, 4)];
    await exec(
      log.sql,
      `UPDATE ${log.table} SET "CREATED_AT" = ?::TIMESTAMP_TZ, "EVENT_ID" = ? WHERE "EVENT_ID" = ?`,
      [b.createdAt, `${b.eventId}-tmp`, a.eventId],
    );
    await exec(log.sql, `UPDATE ${log.table} SET "CREATED_AT" = ?::TIMESTAMP_TZ WHERE "EVENT_ID" = ?`, [
      a.createdAt,
      b.eventId,
    ]);
    // a now sits at b's instant with a larger id, b at a's.
    await exec(log.sql, `UPDATE ${log.table} SET "EVENT_ID" = ? WHERE "EVENT_ID" = ?`, [
      a.eventId,
      `${b.eventId}-tmp`,
    ]);
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'reordered', eventId: b.eventId });
    expect(result.break?.columns).toContain('CREATED_AT');
  });

  it('names the first rewritten event when the whole table was rewritten with recomputed hashes', async () => {
    const log = await writtenLog('verify-rehashed');
    const victim = nth(log, 8);
    await rehash(log, (e) => (e.eventId === victim.eventId ? { ...e, recordCountAfter: 0 } : e));
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'changed', eventId: victim.eventId });
    // The chain alone holds (every hash was recomputed); the anchor and the mirror do not.
    expect(result.break?.witnesses).not.toContain('chain');
    expect(result.break?.witnesses).toContain('anchor');
    expect(result.break?.columns).toEqual(expect.arrayContaining(['RECORD_COUNT_AFTER', 'ROW_HASH']));
  });

  it('names the event when the table and its mirror were rewritten alike: the checkpoint no longer matches', async () => {
    const log = await writtenLog('verify-mirror-alike');
    const victim = nth(log, 10);
    const rewritten = await rehash(log, (e) =>
      e.eventId === victim.eventId ? { ...e, recordCountAfter: 1 } : e,
    );
    // The mirror's event objects are not locked in the stand-in: the attacker overwrites them to match.
    for (const e of rewritten) await log.stage.putJson(auditKey(logDeps(log), e), e);
    // The checkpoints are not theirs to replace: a conditional write refuses to, as S3 does.
    const first = (await readCheckpoint(logDeps(log), 1)) as Checkpoint;
    expect(await log.stage.keepJson(checkpointKey(logDeps(log), 1), { ...first, events: [] })).toBe('exists');
    const run = await tally('audit', 'verify', '--config', log.configFile, '--full');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`BROKEN: changed event ${victim.eventId}`);
    expect(run.stdout).toContain('found by: anchor');
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'changed', eventId: victim.eventId, witnesses: ['anchor'] });
    expect(result.break?.columns).toContain('ROW_HASH');
  });

  it('with a checkpoint key, refuses checkpoints rewritten without it', async () => {
    const log = await writtenLog('verify-hmac', { checkpointKey: 'k'.repeat(40) });
    expect((await verifyAudit(log.config, { full: true })).intact).toBe(true);
    const victim = nth(log, 2);
    const rewritten = await rehash(log, (e) =>
      e.eventId === victim.eventId ? { ...e, recordCountAfter: 1 } : e,
    );
    for (const e of rewritten) await log.stage.putJson(auditKey(logDeps(log), e), e);
    // As if the checkpoints were not locked: the attacker rewrites them too, but has no key.
    const original = (await readCheckpoint(logDeps(log), 1)) as Checkpoint;
    const forged = buildCheckpoint(
      null,
      original.events.map((entry) => {
        const e = rewritten.find((r) => r.eventId === entry.eventId) as AuditEvent;
        return { ...entry, prevHash: e.prevHash, rowHash: e.rowHash };
      }),
      new Date(),
      Buffer.from('not the key, but long enough to look like one'),
    );
    await log.stage.putJson(checkpointKey(logDeps(log), 1), forged);
    const result = await verifyAudit(log.config, { full: true });
    expect(result.break).toMatchObject({ kind: 'checkpoint', checkpoint: 1 });
    expect(result.break?.detail).toMatch(/HMAC does not match/);
    expect(JSON.stringify(result)).not.toContain('k'.repeat(40));
  });

  it("with --table checks that table's events only, and says that neither the links between events nor other tables' events were", async () => {
    const log = await writtenLog('verify-table');
    const other = log.events.find((e) => e.sourceTable === 'public.customers' && e.eventType === 'retry');
    if (!other) throw new Error('no customers event');
    await exec(log.sql, `UPDATE ${log.table} SET "ERROR_MESSAGE" = 'edited' WHERE "EVENT_ID" = ?`, [
      other.eventId,
    ]);
    const narrowed = await tally('audit', 'verify', '--config', log.configFile, '--table', 'public.orders');
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(narrowed.stdout).toMatch(/^intact/);
    expect(narrowed.stdout).toContain("checked: only public.orders's events");
    expect(narrowed.stdout).toContain('not checked: the links between events');
    expect(narrowed.stdout).toContain("every other table's events");
    const json = await tally(
      'audit',
      'verify',
      '--config',
      log.configFile,
      '--table',
      'public.orders',
      '--format',
      'json',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      intact: true,
      recorded: false,
      scope: { table: 'public.orders', links: false },
    });
    // The whole log is not intact, which only a walk without --table says.
    const whole = await tally('audit', 'verify', '--config', log.configFile, '--full');
    expect(whole.code).toBe(1);
    expect(whole.stdout).toContain(`changed event ${other.eventId}`);
    expect(whole.stdout).toContain('its link to the event before it');
  });

  it('refuses bad input with exit 2', async () => {
    const log = await writtenLog('verify-usage');
    const run = await tally('audit', 'verify', '--config', log.configFile, '--since', 'yesterday');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ISO 8601/);
    await writeFile(scratch.file('bad.json'), '{"tables": []}');
    const bad = await tally('audit', 'verify', '--config', scratch.file('bad.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/tables/);
  });
});

function logDeps(log: Log) {
  return { config: log.config, ports: { stage: log.stage } };
}
