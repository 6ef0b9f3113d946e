// Verification's cost, against the in-memory audit table and stage: every read is one bounded page or a
// few ids, and a verification that starts from the last verified checkpoint reads only what came after
// it, however long the history; and the checkpoints themselves: signed, linked, written once.
import { describe, expect, it } from 'vitest';
import { anchorDelivered, checkpointKey, readCheckpoint } from '../../lambdas/audit/anchor';
import { verifyAuditChain } from '../../lambdas/audit/verify';
import { appendAudit } from '../../lambdas/audit/writer';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { buildCheckpoint, checkpointProblem, hasValidSignature } from '../../lambdas/domain/checkpoint';
import type { AuditFilter } from '../../lambdas/ports';
import { orderEvent as event, tickingDeps as ticking, writeJobs } from '../support/fakes';

/** The rows each read returned, and whether every read was bounded. */
function counted(audit: ReturnType<typeof ticking>['audit']) {
  const read = audit.read.bind(audit);
  const seen = { rows: 0, reads: [] as AuditFilter[] };
  audit.read = async (filter: AuditFilter = {}) => {
    const rows = await read(filter);
    seen.rows += rows.length;
    seen.reads.push(filter);
    return rows;
  };
  return seen;
}

describe('audit verification', () => {
  it('reads only bounded pages, and from the last verified checkpoint only what was written since', async () => {
    const { deps, audit } = ticking();
    await writeJobs(deps, 0, 300);
    const seen = counted(audit);
    const first = await verifyAuditChain(deps, { pageSize: 50 });
    expect(first).toMatchObject({ intact: true, checked: 600, recorded: true });
    for (const filter of seen.reads) {
      expect(filter.oldest !== undefined ? filter.oldest <= 50 : (filter.eventIds?.length ?? 0) <= 1).toBe(
        true,
      );
    }

    await writeJobs(deps, 300, 5);
    seen.rows = 0;
    const next = await verifyAuditChain(deps, { pageSize: 50 });
    expect(next).toMatchObject({ intact: true, checked: 10, start: { from: 'checkpoint' } });
    // The ten new events and the checkpoint's head, not the 600 before.
    expect(seen.rows).toBeLessThanOrEqual(11);
  });

  it('reports progress after each page', async () => {
    const { deps } = ticking();
    await writeJobs(deps, 0, 30);
    const progress: number[] = [];
    await verifyAuditChain(deps, { pageSize: 20, full: true, onProgress: (p) => progress.push(p.checked) });
    expect(progress.slice(0, 3)).toEqual([20, 40, 60]);
  });

  it('anchors every checkpointEvery delivered events, and a run that ends at once', async () => {
    const { deps, stage } = ticking();
    const config = { ...deps.config, audit: { ...deps.config.audit, checkpointEvery: 3 } };
    const d = { ...deps, config };
    for (let i = 0; i < 5; i++) await appendAudit(d, [event('J1', 'retry')]);
    const one = await readCheckpoint(d, 1);
    expect(one?.events).toHaveLength(3);
    expect(await readCheckpoint(d, 2)).toBeNull();
    await appendAudit(d, [event('J1', 'success')]);
    const two = await readCheckpoint(d, 2);
    expect(two?.events).toHaveLength(3);
    expect(
      two && checkpointProblem(two, 2, one && { seq: 1, headHash: one.events[2]!.rowHash, position: 3 }),
    ).toBeNull();
    // Nothing new: no checkpoint is written twice, and the one written stays as it was.
    await anchorDelivered(d, { endsRun: true });
    expect(await readCheckpoint(d, 3)).toBeNull();
    expect(await stage.keepJson(checkpointKey(d, 2), { forged: true })).toBe('exists');
    expect(await readCheckpoint(d, 2)).toEqual(two);
  });

  it('signs a checkpoint with the key, and finds any change of it', () => {
    const entry = {
      eventId: 'E1',
      prevHash: null,
      rowHash: 'a'.repeat(64),
      createdAt: '2025-01-01T00:00:00.000Z',
      sourceTable: 't',
    };
    const key = Buffer.from('x'.repeat(32));
    const checkpoint = buildCheckpoint(null, [entry], new Date(0), key);
    expect(hasValidSignature(checkpoint, key)).toBe(true);
    expect(hasValidSignature(checkpoint, Buffer.from('y'.repeat(32)))).toBe(false);
    const changed = { ...checkpoint, events: [{ ...entry, rowHash: 'b'.repeat(64) }] };
    expect(checkpointProblem(changed, 1, null, [key])).toMatch(/HMAC does not match/);
    expect(checkpointProblem(buildCheckpoint(null, [entry], new Date(0)), 1, null, [key])).toMatch(/no HMAC/);
    expect(checkpointProblem(checkpoint, 2, null, [key])).toMatch(/says it is checkpoint 1/);
  });

  it('finds a changed event in the in-memory table too', async () => {
    const { deps, audit } = ticking();
    await writeJobs(deps, 0, 3);
    const victim = audit.events[3] as AuditEvent;
    audit.events[3] = { ...victim, status: 'FAILED' };
    const result = await verifyAuditChain(deps, { full: true });
    expect(result.break).toMatchObject({ kind: 'changed', eventId: victim.eventId, columns: ['STATUS'] });
  });

  it('still verifies what an earlier key signed after a rotation that keeps it in previousCheckpointKeys', async () => {
    const { deps } = ticking();
    const OLD = 'o'.repeat(40);
    const NEW = 'n'.repeat(40);
    const withKeys = (checkpointKey: string, previousCheckpointKeys: string[]) => ({
      ...deps,
      config: { ...deps.config, audit: { ...deps.config.audit, checkpointKey, previousCheckpointKeys } },
    });
    const before = withKeys(OLD, []);
    await writeJobs(before, 0, 3);
    // The last verification's record is signed with the old key too.
    expect(await verifyAuditChain(before)).toMatchObject({ intact: true, signed: true, recorded: true });

    const after = withKeys(NEW, [OLD]);
    await writeJobs(after, 3, 2);
    const seq = (await after.ports.stage.list('tally/audit/checkpoints/')).length;
    const newest = await readCheckpoint(after, seq);
    expect(newest && hasValidSignature(newest, Buffer.from(NEW))).toBe(true);
    expect(newest && hasValidSignature(newest, Buffer.from(OLD))).toBe(false);
    expect(await verifyAuditChain(after)).toMatchObject({
      intact: true,
      checked: 4,
      start: { from: 'checkpoint' },
    });
    expect(await verifyAuditChain(after, { full: true })).toMatchObject({ intact: true, checked: 10 });

    // Dropped from previousCheckpointKeys, the old key's checkpoints no longer verify.
    const dropped = await verifyAuditChain(withKeys(NEW, []), { full: true });
    expect(dropped.break).toMatchObject({ kind: 'checkpoint', checkpoint: 1 });
    expect(dropped.break?.detail).toMatch(/HMAC does not match its content under the configured key/);
  });
});
