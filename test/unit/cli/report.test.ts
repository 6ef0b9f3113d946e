// `tally report` without a warehouse: what the model draws from a history of audit events (runs, the
// timed parts' percentiles, failures by error name, retries by step, freshness, volume warnings, alerts),
// the chain status from the audit log's verifier, and the HTML, which escapes everything taken from the log.
import { describe, expect, it } from 'vitest';
import { chainStatusOfVerification } from '../../../cli/report/chain-status';
import { age, jsonForScript, renderReport } from '../../../cli/report/html';
import { buildReport, percentile, type ReportInput } from '../../../cli/report/model';
import { verifyAuditChain } from '../../../lambdas/audit/verify';
import {
  type AuditEvent,
  type AuditEventInput,
  type PipelineName,
  sealEvent,
} from '../../../lambdas/domain/audit';
import { jobEvent, retriedState, retryEvent } from '../../../lambdas/domain/job-events';
import { type StepDurations, TIMED_STEPS, withStepDurations } from '../../../lambdas/domain/step-durations';
import { tickingDeps, writeJobs } from '../../support/fakes';

const T0 = Date.parse('2026-11-30T00:00:00.000Z');
const at = (minutes: number, seconds = 0) => new Date(T0 + minutes * 60_000 + seconds * 1000);

/** A chained history, written as the pipeline writes it: each event sealed at its own time. */
class History {
  readonly events: AuditEvent[] = [];
  private runs = 0;

  add(input: AuditEventInput, when: Date): AuditEvent {
    const sealed = sealEvent(input, this.events.at(-1)?.rowHash ?? null, when);
    this.events.push(sealed);
    return sealed;
  }

  /** One table's run starting at `minute`: Plan takes 2 s, the chain `seconds`, then the result. */
  run(
    table: string,
    minute: number,
    outcome: {
      pipeline?: PipelineName;
      rows?: number;
      seconds?: number;
      fail?: { type: string; message: string };
      retryState?: string;
      volumeWarning?: string;
      windowEnd?: string;
      /** The steps' durations the result event carries, as WriteAudit writes them. */
      steps?: StepDurations;
    } = {},
  ): void {
    const pipeline = outcome.pipeline ?? 'incremental';
    const job = {
      jobId: `job-${this.runs}`,
      executionId: `exec-${this.runs++}`,
      pipeline,
      startedAt: at(minute).toISOString(),
    };
    const window = { from: null, to: outcome.windowEnd ?? at(minute).toISOString() };
    const ref = { sourceTable: table, targetTable: table.toUpperCase(), window };
    this.add(jobEvent(job, 'start', ref), at(minute, 2));
    if (outcome.retryState) {
      this.add(retryEvent(jobEvent(job, 'retry', ref), outcome.retryState, 1), at(minute, 3));
    }
    const seconds = outcome.seconds ?? 10;
    const end = at(minute, 2 + seconds);
    const result: AuditEventInput = {
      ...jobEvent(job, outcome.fail ? 'failure' : 'success', ref),
      status: outcome.fail ? 'FAILED' : 'SUCCEEDED',
      recordCountBefore: outcome.rows ?? 100,
      rowsExported: outcome.rows ?? 100,
      rowsLoaded: outcome.fail ? null : (outcome.rows ?? 100),
      recordCountAfter: outcome.fail ? null : (outcome.rows ?? 100),
      countMatch: outcome.fail ? null : true,
      jobEndTime: end.toISOString(),
      durationMs: end.getTime() - at(minute).getTime(),
      errorType: outcome.fail?.type ?? (outcome.volumeWarning ? 'VolumeWarning' : null),
      errorMessage: withStepDurations(
        outcome.fail?.message ?? outcome.volumeWarning ?? null,
        outcome.steps ?? {},
      ),
      retryCount: outcome.retryState ? 1 : 0,
    };
    this.add(result, end);
    if (outcome.fail) {
      this.add(
        {
          ...jobEvent(job, 'alert', ref),
          status: 'ALERTED',
          errorType: 'TableFailed',
          errorMessage: `${table} failed in execution ${job.executionId}; an alert was published`,
          alertTriggered: true,
        },
        at(minute, 3 + seconds),
      );
    }
  }
}

function input(history: History, overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    events: history.events,
    lastVerified: [],
    tables: ['public.orders', 'public.customers'],
    since: at(0).toISOString(),
    now: at(100),
    schedule: { intervalMinutes: 30, intervals: 3 },
    chain: {
      verdict: 'intact',
      checked: history.events.length,
      scope: 'every event',
      checkedBy: 'tally audit verify, run by tally report',
    },
    ...overrides,
  };
}

const HOSTILE = `</td></script><script>window.__pwned = 1</script><img src=x onerror="alert(1)"> & "quoted" 'single'`;

describe('the report model', () => {
  it("lists each table's runs oldest first with the rows moved, and failed runs by what got furthest", () => {
    const h = new History();
    h.run('public.orders', 0, { pipeline: 'historical', rows: 1000 });
    h.run('public.orders', 30, { rows: 40 });
    h.run('public.orders', 60, {
      rows: 25,
      fail: { type: 'CountMismatchError', message: 'target short by 1' },
    });

    const report = buildReport(input(h));

    const orders = report.tables.find((t) => t.table === 'public.orders');
    expect(orders?.runs.map((r) => [r.pipeline, r.status, r.rows, r.alerted])).toEqual([
      ['historical', 'succeeded', 1000, false],
      ['incremental', 'succeeded', 40, false],
      ['incremental', 'failed', 25, true],
    ]);
    expect(orders?.failures).toBe(1);
    // A configured table with no event still has its place.
    expect(report.tables.find((t) => t.table === 'public.customers')?.runs).toEqual([]);
  });

  it('times Plan, the table chain, the whole job and the alert, with nearest-rank p50 and p95', () => {
    const h = new History();
    for (let i = 0; i < 20; i++) h.run('public.orders', i * 30, { seconds: i + 1 });
    h.run('public.customers', 0, { seconds: 5, fail: { type: 'SourceSchemaError', message: 'gone' } });

    const report = buildReport(input(h));

    const orders = report.tables.find((t) => t.table === 'public.orders');
    const chain = orders?.durations.find((d) => d.phase === 'CountSource → WriteAudit');
    // 1..20 s: the 10th and the 19th of the sorted values.
    expect(chain).toEqual({ phase: 'CountSource → WriteAudit', count: 20, p50Ms: 10_000, p95Ms: 19_000 });
    expect(orders?.durations.find((d) => d.phase === 'Plan')).toMatchObject({ p50Ms: 2000, p95Ms: 2000 });
    expect(orders?.durations.find((d) => d.phase === 'whole job')).toMatchObject({ p50Ms: 12_000 });
    expect(orders?.durations.some((d) => d.phase === 'ComposeAlert → alert')).toBe(false);
    expect(report.durations.find((d) => d.phase === 'ComposeAlert → alert')).toMatchObject({
      count: 1,
      p50Ms: 1000,
    });
    expect(report.durations.find((d) => d.phase === 'whole job')?.count).toBe(21);
  });

  it("draws each step's p50 and p95 per table from the durations the result events carry", () => {
    const h = new History();
    for (let i = 0; i < 20; i++) {
      h.run('public.orders', i * 30, {
        steps: { CountSource: 100 + i, ExportToS3: 1_000 * (i + 1), WriteAudit: 40 },
      });
    }
    h.run('public.customers', 0, {
      fail: { type: 'CountMismatchError', message: 'counts do not close' },
      steps: { CountSource: 7, ExportToS3: 900, LoadSnowflake: 300, WriteAudit: 30 },
    });
    // A run written before the steps were recorded: it has the coarse parts only.
    h.run('public.orders', 700);

    const report = buildReport(input(h));

    const orders = report.tables.find((t) => t.table === 'public.orders');
    const phase = (name: string) => orders?.durations.find((d) => d.phase === name);
    expect(phase('CountSource')).toEqual({ phase: 'CountSource', count: 20, p50Ms: 109, p95Ms: 118 });
    expect(phase('ExportToS3')).toMatchObject({ count: 20, p50Ms: 10_000, p95Ms: 19_000 });
    expect(phase('WriteAudit')).toMatchObject({ count: 20, p50Ms: 40 });
    expect(phase('LoadSnowflake')).toBeUndefined();
    expect(phase('whole job')?.count).toBe(21);
    const customers = report.tables.find((t) => t.table === 'public.customers');
    expect(customers?.durations.find((d) => d.phase === 'LoadSnowflake')).toMatchObject({ p50Ms: 300 });
    // The failure shows its own message, not the durations after it.
    expect(report.failures.map((f) => f.message)).toEqual(['counts do not close']);
    expect(customers?.runs[0]?.errorMessage).toBe('counts do not close');

    const html = renderReport(report);
    expect(html).toContain('<canvas id="steps"></canvas>');
    const data = JSON.parse(
      /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}',
    ) as { steps: { labels: string[]; tables: { table: string; p50Ms: (number | null)[] }[] } };
    expect(data.steps.labels).toEqual([...TIMED_STEPS]);
    expect(data.steps.tables.map((t) => t.table).sort()).toEqual(['public.customers', 'public.orders']);
    const ordersSteps = data.steps.tables.find((t) => t.table === 'public.orders');
    expect(ordersSteps?.p50Ms).toEqual([109, 10_000, null, null, null, null, 40]);
  });

  it('counts failures by error name and retries by the step that ran again', () => {
    const h = new History();
    h.run('public.orders', 0, { retryState: 'ExportToS3' });
    h.run('public.orders', 30, {
      retryState: 'ExportToS3',
      fail: { type: 'SourceUnavailableError', message: 'x' },
    });
    h.run('public.customers', 0, {
      retryState: 'LoadSnowflake',
      fail: { type: 'SourceUnavailableError', message: 'y' },
    });
    h.run('public.customers', 30, { fail: { type: 'CountMismatchError', message: 'z' } });

    const report = buildReport(input(h));

    expect(report.failuresByError).toEqual([
      { error: 'SourceUnavailableError', count: 2 },
      { error: 'CountMismatchError', count: 1 },
    ]);
    expect(report.retriesByStep).toEqual([
      { step: 'ExportToS3', count: 2 },
      { step: 'LoadSnowflake', count: 1 },
    ]);
    expect(report.alerts).toHaveLength(3);
    expect(report.alerts.every((a) => a.kind === 'TableFailed')).toBe(true);
  });

  it("ages a table from its last verified window's end, or from its verification for a sequence cursor", () => {
    const h = new History();
    h.run('public.orders', 0, { windowEnd: at(0).toISOString() });
    h.run('public.customers', 95, { windowEnd: '12345' });

    const report = buildReport(input(h, { tables: ['public.orders', 'public.customers', 'public.events'] }));

    const freshness = Object.fromEntries(report.tables.map((t) => [t.table, t.freshness]));
    // 100 minutes after the window ended, past 3 intervals of 30 minutes.
    expect(freshness['public.orders']).toMatchObject({
      state: 'stale',
      ageMs: 100 * 60_000,
      basis: 'window end',
    });
    expect(freshness['public.customers']).toMatchObject({ state: 'fresh', basis: 'verified at' });
    expect(freshness['public.customers']?.ageMs).toBe(5 * 60_000 - 12_000);
    expect(freshness['public.events']).toMatchObject({ state: 'never verified', ageMs: null });
  });

  it('takes freshness from a success older than the period when the period has none', () => {
    const old = new History();
    old.run('public.orders', -600, { windowEnd: at(-600).toISOString() });
    const recent = new History();
    recent.run('public.orders', 60, { fail: { type: 'SourceUnavailableError', message: 'down' } });

    const report = buildReport(
      input(recent, { lastVerified: old.events.filter((e) => e.eventType === 'success') }),
    );

    expect(report.tables.find((t) => t.table === 'public.orders')?.freshness).toMatchObject({
      state: 'stale',
      ageMs: 700 * 60_000,
    });
  });

  it("collects the volume guard's warnings and its failures in alert mode", () => {
    const h = new History();
    h.run('public.orders', 0, {
      rows: 0,
      volumeWarning: 'public.orders: volume guard: the window has no rows',
    });
    h.run('public.orders', 30, { fail: { type: 'VolumeAnomalyError', message: 'far below' } });
    h.run('public.orders', 60, { rows: 50 });

    const report = buildReport(input(h));

    expect(report.volumeWarnings.map((w) => [w.kind, w.message])).toEqual([
      ['VolumeWarning', 'public.orders: volume guard: the window has no rows'],
      ['VolumeAnomalyError', 'far below'],
    ]);
  });

  it('computes the nearest-rank percentile', () => {
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([4, 1, 3, 2], 95)).toBe(4);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe("the chain status, from the audit log's verifier", () => {
  it('is intact over an untouched log, saying what was checked and from where', async () => {
    const { deps } = tickingDeps();
    await writeJobs(deps, 0, 3);
    const status = chainStatusOfVerification(await verifyAuditChain(deps, { since: '2025-01-01T00:00:00Z' }));
    expect(status).toMatchObject({
      verdict: 'intact',
      checked: 6,
      checkedBy: 'tally audit verify, run by tally report',
    });
    expect(status.scope).toMatch(
      /^every event's hash, its link to the event before it, its S3 copy and its checkpoint entry; from the chain's first event, against \d+ checkpoint/,
    );
  });

  it('names the event that was changed and what found it', async () => {
    const { deps, audit } = tickingDeps();
    await writeJobs(deps, 0, 3);
    const victim = audit.events[3] as AuditEvent;
    audit.events[3] = { ...victim, rowsLoaded: 1 };
    const status = chainStatusOfVerification(await verifyAuditChain(deps, { since: '2025-01-01T00:00:00Z' }));
    expect(status.verdict).toBe('broken');
    expect(status.broken?.eventId).toBe(victim.eventId);
    expect(status.broken?.reason).toMatch(/^changed, found by chain, mirror: .*ROWS_LOADED/);
  });

  it("over one table's events, says the links between events were not checked", async () => {
    const { deps } = tickingDeps();
    await writeJobs(deps, 0, 2);
    const status = chainStatusOfVerification(await verifyAuditChain(deps, { table: 'public.orders' }));
    expect(status.verdict).toBe('intact');
    expect(status.scope).toMatch(/only public\.orders's events.*not checked: the links between events/);
  });
});

describe('the retry event', () => {
  it('names the state that ran again, as retryEvent wrote it', () => {
    const job = {
      jobId: 'j',
      executionId: 'e',
      pipeline: 'incremental' as const,
      startedAt: at(0).toISOString(),
    };
    expect(retriedState(retryEvent(jobEvent(job, 'retry'), 'LoadSnowflake', 2))).toBe('LoadSnowflake');
    expect(
      retriedState({ eventType: 'failure', errorMessage: 'LoadSnowflake is running again (attempt 2)' }),
    ).toBe(null);
  });
});

describe('the report page', () => {
  it('escapes every text taken from the audit log, in tables and in the chart data', () => {
    const h = new History();
    h.run('public.orders', 0, { fail: { type: 'SourceSchemaError', message: HOSTILE } });
    h.run(`public.<b>"x"</b>`, 0, { fail: { type: `Err<script>`, message: 'm' } });

    const html = renderReport(buildReport(input(h)));

    expect(html).not.toContain('<script>window.__pwned');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>"x"</b>');
    expect(html).toContain(
      '&lt;/script&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;',
    );
    expect(html).toContain('public.&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
    // Exactly the page's own three script elements: the data, Chart.js and the page script.
    expect(html.match(/<script\b/g)).toHaveLength(3);
    const data = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(data).not.toContain('<');
    expect(JSON.parse(data).failuresByError.map((f: { error: string }) => f.error)).toContain('Err<script>');
  });

  it('loads nothing from outside: no URL to fetch, and a policy that allows no source but its own scripts', () => {
    const h = new History();
    h.run('public.orders', 0);
    const html = renderReport(buildReport(input(h)));

    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
    expect(html).not.toMatch(/sourceMappingURL/);
    const policy = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy.match(/'sha256-[A-Za-z0-9+/=]+'/g)).toHaveLength(3);
    expect(policy).not.toContain('unsafe-inline');
    // Chart.js itself is inside.
    expect(html).toContain('Chart.js v4.6.1');
  });

  it('shows a chain verdict given from outside the report, naming the first event that does not hold', () => {
    const h = new History();
    h.run('public.orders', 0);
    const chain = {
      verdict: 'broken' as const,
      checked: 1234,
      scope: 'the whole chain against its anchor',
      checkedBy: 'tally audit verify',
      broken: { eventId: '01BROKEN<EVENT>', reason: 'row removed' },
    };

    const html = renderReport(buildReport(input(h, { chain })));

    const section = /<div class="chain bad" id="chain-status" data-verdict="broken">(.*?)<\/div>/s.exec(
      html,
    )?.[1];
    expect(section).toContain('BROKEN</b>: 1234 events checked by tally audit verify');
    expect(section).toContain('<code>01BROKEN&lt;EVENT&gt;</code> (row removed)');
  });

  it('writes JSON that cannot close its script element', () => {
    expect(jsonForScript({ m: '</script><!-- \u2028' })).toBe('{"m":"\\u003c/script>\\u003c!-- \\u2028"}');
  });

  it('shows durations for a person', () => {
    expect([
      age(850),
      age(12_340),
      age(245_000),
      age(3 * 3_600_000 + 20 * 60_000),
      age(52 * 3_600_000),
    ]).toEqual(['850 ms', '12.3 s', '4 min 5 s', '3 h 20 min', '2 d 4 h']);
  });
});
