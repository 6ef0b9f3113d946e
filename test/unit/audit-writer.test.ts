// The audit writer's agreement through the chain's tail, against the in-memory stage (whose conditional
// writes answer as S3's do): a write that loses the race seals again after the winner, a claim left by a
// writer that died is taken over without a second insert, and conflicts that never end fail as retryable.
import { describe, expect, it } from 'vitest';
import { appendAudit, replayPendingAudit } from '../../lambdas/audit/writer';
import { type AuditEvent, sealEvent, verifyChain } from '../../lambdas/domain/audit';
import { StageUnavailableError } from '../../lambdas/domain/errors';
import type { Stage } from '../../lambdas/ports';
import { withStepClock } from '../../lambdas/step-clock';
import { orderEvent as event, fakeDeps } from '../support/fakes';
import { overriding } from '../support/port-overrides';

const TAIL = 'tally/audit/tail.json';

interface TailObject {
  readonly eventId: string;
  readonly rowHash: string;
  readonly undelivered: AuditEvent[];
  readonly delivery: { by: string; until: number } | null;
}

function withStage(env: ReturnType<typeof fakeDeps>, stage: Stage) {
  return { ...env.deps, ports: { ...env.deps.ports, stage } };
}

describe('the audit chain across writers', () => {
  it('seals again after the event of a writer that changed the tail first, so the chain does not fork', async () => {
    const env = fakeDeps();
    await appendAudit(env.deps, [event('J1')]);
    let raced = false;
    // Another process appends between this writer's read of the tail and its conditional write.
    const racing = overriding(env.stage as Stage, {
      putJsonIf: async (key, value, expected) => {
        if (!raced && key === TAIL) {
          raced = true;
          const tail = (await env.stage.getJsonTagged<TailObject>(TAIL))!;
          const other = sealEvent(event('OTHER'), tail.value.rowHash, new Date('2025-01-01T12:00:01.000Z'));
          await env.stage.putJsonIf(
            TAIL,
            { ...tail.value, eventId: other.eventId, rowHash: other.rowHash, undelivered: [other] },
            { etag: tail.etag },
          );
        }
        return env.stage.putJsonIf(key, value, expected);
      },
    });
    const [mine] = await appendAudit(withStage(env, racing), [event('J2')]);
    expect(raced).toBe(true);
    const other = env.audit.events.find((e) => e.jobId === 'OTHER');
    expect(mine?.prevHash).toBe(other?.rowHash);
    expect(env.audit.events.map((e) => e.jobId)).toEqual(['J1', 'OTHER', 'J2']);
    expect(verifyChain(env.audit.events)).toBeNull();
    expect((env.stage.json.get(TAIL) as TailObject).undelivered).toEqual([]);
  });

  it('takes over the delivery a writer claimed and never finished, skipping what it had inserted', async () => {
    const env = fakeDeps();
    await appendAudit(env.deps, [event('J1')]);
    const tail = (await env.stage.getJsonTagged<TailObject>(TAIL))!;
    const a = sealEvent(event('J2'), tail.value.rowHash);
    const b = sealEvent(event('J2', 'success'), a.rowHash);
    // A writer claimed both, inserted the first and died: its claim ran out a second ago.
    await env.stage.putJsonIf(
      TAIL,
      {
        eventId: b.eventId,
        rowHash: b.rowHash,
        undelivered: [a, b],
        delivery: { by: 'dead', until: Date.now() - 1000 },
      },
      { etag: tail.etag },
    );
    await env.audit.insert([a]);
    await replayPendingAudit(env.deps);
    expect(env.audit.events.map((e) => e.eventId)).toEqual([
      env.audit.events[0]?.eventId,
      a.eventId,
      b.eventId,
    ]);
    expect(verifyChain(env.audit.events)).toBeNull();
    expect(env.stage.json.get(TAIL)).toMatchObject({ undelivered: [], delivery: null });
  });

  it('waits for a live claim and sees its events delivered by the claimant, inserting none itself', async () => {
    const env = fakeDeps();
    await appendAudit(env.deps, [event('J1')]);
    const tail = (await env.stage.getJsonTagged<TailObject>(TAIL))!;
    const a = sealEvent(event('J2'), tail.value.rowHash);
    await env.stage.putJsonIf(
      TAIL,
      {
        eventId: a.eventId,
        rowHash: a.rowHash,
        undelivered: [a],
        delivery: { by: 'other', until: Date.now() + 60_000 },
      },
      { etag: tail.etag },
    );
    const inserts: string[][] = [];
    const insert = env.audit.insert.bind(env.audit);
    env.audit.insert = async (events) => {
      inserts.push(events.map((e) => e.eventId));
      return insert(events);
    };
    const replay = replayPendingAudit(env.deps);
    // The claimant delivers and gives its claim back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await insert([a]);
    const now = (await env.stage.getJsonTagged<TailObject>(TAIL))!;
    await env.stage.putJsonIf(TAIL, { ...now.value, undelivered: [], delivery: null }, { etag: now.etag });
    await replay;
    expect(inserts).toEqual([]);
    expect(env.audit.events.filter((e) => e.eventId === a.eventId)).toHaveLength(1);
  });

  it("stops waiting for another writer's live claim by its step's deadline, failing as retryable with its event kept", async () => {
    const env = fakeDeps();
    await appendAudit(env.deps, [event('J1')]);
    const tail = (await env.stage.getJsonTagged<TailObject>(TAIL))!;
    await env.stage.putJsonIf(
      TAIL,
      { ...tail.value, delivery: { by: 'other', until: Date.now() + 60_000 } },
      { etag: tail.etag },
    );
    const started = Date.now();
    // A 2-second step keeps a quarter back: its deadline is 1.5 s away.
    const err = await withStepClock(2000, () => appendAudit(env.deps, [event('J2')])).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StageUnavailableError);
    expect((err as Error).message).toMatch(/still delivering .* step will retry/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((env.stage.json.get(TAIL) as TailObject).undelivered.map((e) => e.jobId)).toEqual(['J2']);
  });

  it('fails as a retryable StageUnavailableError when other writers win every conditional write', async () => {
    const env = fakeDeps();
    const losing = overriding(env.stage as Stage, { putJsonIf: async () => 'conflict' as const });
    const err = await appendAudit(withStage(env, losing), [event('J1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageUnavailableError);
    expect((err as StageUnavailableError).transient).toBe(true);
    expect((err as Error).message).toMatch(/changed the audit chain's tail .* first 12 times .*retry/);
    expect(env.audit.events).toEqual([]);
  }, 20_000);

  it('carries the events an earlier writer kept one object each into the tail, delivers them, and removes them', async () => {
    const env = fakeDeps();
    const first = sealEvent(event('J1'), null, new Date('2025-01-01T11:00:00.000Z'));
    const second = sealEvent(event('J1', 'success'), first.rowHash, new Date('2025-01-01T11:00:01.000Z'));
    await env.stage.putJson(`tally/audit/pending/${second.eventId}.json`, second);
    await env.stage.putJson(`tally/audit/pending/${first.eventId}.json`, first);
    await env.stage.putJson(TAIL, { eventId: second.eventId, rowHash: second.rowHash });
    const [third] = await appendAudit(env.deps, [event('J2')]);
    expect(third?.prevHash).toBe(second.rowHash);
    expect(env.audit.events.map((e) => e.eventId)).toEqual([first.eventId, second.eventId, third?.eventId]);
    expect(verifyChain(env.audit.events)).toBeNull();
    expect([...env.stage.json.keys()].filter((k) => k.startsWith('tally/audit/pending/'))).toEqual([]);
  });
});
