import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTransport } from '../../../lambdas/adapters/openlineage';
import type { StepDeps } from '../../../lambdas/deps';
import { type AuditEvent, sealEvent } from '../../../lambdas/domain/audit';
import { jobEvent } from '../../../lambdas/domain/job-events';
import { emitLineage, pendingFolder, RESEND_BATCH } from '../../../lambdas/lineage/emit';
import type { LineageTransport } from '../../../lambdas/ports';
import { fakeDeps } from '../../support/fakes';
import { lineageProblems } from '../../support/openlineage';

/** A transport that takes events until `failAfter` were taken, then refuses every one. */
class Recorder implements LineageTransport {
  readonly target = 'https://lineage.example.com/api/v1/lineage';
  readonly taken: { eventType: string; job: { name: string } }[] = [];
  attempts = 0;
  constructor(public failAfter = Number.POSITIVE_INFINITY) {}
  async send(event: unknown) {
    this.attempts += 1;
    if (this.taken.length >= this.failAfter)
      throw new Error(`${this.target} answered 503 Service Unavailable`);
    this.taken.push(event as { eventType: string; job: { name: string } });
  }
}

const job = {
  jobId: '01JOBAAAAAAAAAAAAAAAAAAAAA',
  executionId: 'exec-1',
  pipeline: 'historical' as const,
  startedAt: '2025-01-01T11:00:00.000Z',
};

function events(tables: string[], type: 'start' | 'success'): AuditEvent[] {
  return tables.map((t) =>
    sealEvent(
      jobEvent(job, type, {
        sourceTable: `public.${t}`,
        targetTable: `DB.PUBLIC.${t.toUpperCase()}`,
        window: { from: null, to: null },
      }),
      null,
    ),
  );
}

function withLineage(transport: LineageTransport, pendingLimit = 1000) {
  const fakes = fakeDeps();
  const deps: StepDeps = {
    ...fakes.deps,
    lineage: { transport, namespace: 'tally', producer: 'urn:tally', pendingLimit },
  };
  return { ...fakes, deps };
}

describe('sending lineage events', () => {
  it('sends each event once, valid, and keeps nothing when the endpoint takes them', async () => {
    const recorder = new Recorder();
    const { deps, stage } = withLineage(recorder);
    await emitLineage(deps, [...events(['orders', 'customers'], 'start'), ...events(['orders'], 'success')]);
    expect(recorder.taken.map((e) => [e.job.name, e.eventType])).toEqual([
      ['historical.public.orders', 'START'],
      ['historical.public.customers', 'START'],
      ['historical.public.orders', 'COMPLETE'],
    ]);
    for (const e of recorder.taken) expect(lineageProblems(e)).toEqual([]);
    expect(await stage.list(pendingFolder(deps))).toEqual([]);
  });

  it('stops at the first refusal, keeps the rest in the stage and says so without failing', async () => {
    const recorder = new Recorder(1);
    const { deps, stage, logger } = withLineage(recorder);
    await emitLineage(deps, events(['a', 'b', 'c'], 'start'));
    expect(recorder.attempts).toBe(2);
    expect(await stage.list(pendingFolder(deps))).toHaveLength(2);
    expect(logger.lines).toEqual([
      expect.stringMatching(
        /^warn: OpenLineage: .*503 Service Unavailable; 2 event\(s\) kept in s3:\/\/bucket\/tally\/lineage\/pending\//,
      ),
    ]);
  });

  it('sends the kept events first, in the order they were kept, then its own, and removes what was sent', async () => {
    const recorder = new Recorder(0);
    const { deps, stage } = withLineage(recorder);
    await emitLineage(deps, events(['a', 'b'], 'start'));
    await emitLineage(deps, events(['a'], 'success'));
    expect(await stage.list(pendingFolder(deps))).toHaveLength(3);
    recorder.failAfter = Number.POSITIVE_INFINITY;
    await emitLineage(deps, events(['b'], 'success'));
    expect(recorder.taken.map((e) => `${e.job.name} ${e.eventType}`)).toEqual([
      'historical.public.a START',
      'historical.public.b START',
      'historical.public.a COMPLETE',
      'historical.public.b COMPLETE',
    ]);
    expect(await stage.list(pendingFolder(deps))).toEqual([]);
  });

  it(`re-sends at most ${RESEND_BATCH} kept events a call, and keeps no more than pendingLimit`, async () => {
    const recorder = new Recorder(0);
    const { deps, stage, logger } = withLineage(recorder, 150);
    const many = events(
      Array.from({ length: 160 }, (_, i) => `t${i}`),
      'start',
    );
    await emitLineage(deps, many);
    expect(await stage.list(pendingFolder(deps))).toHaveLength(150);
    expect(logger.lines.at(-1)).toMatch(
      /more than 150 events \(lineage\.pendingLimit\).*oldest 10 were dropped/,
    );
    recorder.failAfter = Number.POSITIVE_INFINITY;
    await emitLineage(deps, []);
    expect(recorder.taken).toHaveLength(RESEND_BATCH);
    expect(recorder.taken[0]?.job.name).toBe('historical.public.t10');
    expect(await stage.list(pendingFolder(deps))).toHaveLength(50);
  });

  it('never throws, even when the stage cannot keep what the endpoint refused', async () => {
    const { deps, stage, logger } = withLineage(new Recorder(0));
    stage.putJson = async () => {
      throw new Error('S3 is down');
    };
    await expect(emitLineage(deps, events(['a'], 'start'))).resolves.toBeUndefined();
    expect(logger.lines.join('\n')).toMatch(/0 event\(s\) kept .*1 could not be kept and are lost/);
  });

  it('sends nothing, and reads nothing, without lineage', async () => {
    const { deps, stage } = fakeDeps();
    stage.list = async () => {
      throw new Error('not to be called');
    };
    await expect(emitLineage(deps, events(['a'], 'start'))).resolves.toBeUndefined();
  });
});

describe('the file transport', () => {
  it('appends one JSON line an event with append, or writes one file an event without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-olf-'));
    const lines = new FileTransport(join(dir, 'lineage.jsonl'), true);
    await lines.send({ n: 1 });
    await lines.send({ n: 2 });
    expect(readFileSync(join(dir, 'lineage.jsonl'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    const files = new FileTransport(join(dir, 'event'), false);
    await files.send({ n: 3 });
    await files.send({ n: 4 });
    const written = readdirSync(dir)
      .filter((f) => f.startsWith('event-'))
      .sort();
    expect(written).toHaveLength(2);
    for (const f of written) expect(f).toMatch(/^event-\d{8}-\d{6}\.\d{6}\.json$/);
    expect(written.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).n).sort()).toEqual([3, 4]);
  });
});
