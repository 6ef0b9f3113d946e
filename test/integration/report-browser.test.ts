// `tally report` end to end: the pipelines run against the embedded PostgreSQL, S3 and Snowflake
// stand-ins (a historical load, an incremental run with a retried export, and one whose window is empty
// for one table and fails for the other with a hostile error message), the command writes the report,
// and headless Chromium opens the file with every request refused: the page renders its charts with the
// run's data (the steps of each table's chain timed among them), asks for nothing, logs no error, and
// shows the hostile message as text; after the audit table is tampered with, the report shows the break.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeConfigFile } from '../../lambdas/config-file';
import { SourceSchemaError, SourceUnavailableError } from '../../lambdas/domain/errors';
import { TIMED_STEPS } from '../../lambdas/domain/step-durations';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import { changeDemo } from '../../local/demo-data';
import type { StateMachineDefinition } from '../../local/interpreter';
import { runPipeline } from '../../local/runner';
import { artifactPath, launchChromium } from '../support/chromium';
import { scratchFolder, tally } from '../support/cli';
import { demoDatabase } from '../support/demo-database';
import { wrapping } from '../support/port-overrides';
import { connect, destroy, exec } from '../support/snowflake-client';

const label = `report_${process.pid}`;
const demo = demoDatabase(label, { rows: 200, seed: 7 });
const dir = scratchFolder('tally-report');
const TABLES = ['public.orders', 'public.customers'];
const HOSTILE = `</td></script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "q"`;

let browser: Browser;
let page: Page;
let reportPath: string;
let configFile: string;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  // No lookback, so that a window after no change is empty and the volume guard warns.
  const base = demo.config;
  const config = {
    ...base,
    tables: base.tables.filter((t) => TABLES.includes(`public.${t.name}`)),
    pipeline: { ...base.pipeline, lookbackSeconds: 0 },
  };
  const definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;
  const run = (
    input: { pipeline: 'historical' | 'incremental' },
    wrapPorts?: Parameters<typeof runPipeline>[0]['wrapPorts'],
  ) =>
    runPipeline({
      config,
      input: { ...input, tables: TABLES },
      definition,
      retryIntervalMs: 10,
      printAlert: () => {},
      ...(wrapPorts ? { wrapPorts } : {}),
    });
  expect((await run({ pipeline: 'historical' })).status).toBe('succeeded');
  await changeDemo(config.postgres.url as string, { seed: 7 });
  let flaked = false;
  const flakyOnce = wrapping({
    source: (source) => ({
      export: async (...args: Parameters<typeof source.export>) => {
        if (flaked) return source.export(...args);
        flaked = true;
        throw new SourceUnavailableError('connection refused (injected)');
      },
    }),
  });
  expect((await run({ pipeline: 'incremental' }, flakyOnce)).status).toBe('succeeded');
  // Nothing changed since: orders' window is empty (the volume guard warns); customers fails.
  const hostile = wrapping({
    source: (source) => ({
      export: async (...args: Parameters<typeof source.export>) => {
        if (args[0].name === 'customers') throw new SourceSchemaError(HOSTILE);
        return source.export(...args);
      },
    }),
  });
  expect((await run({ pipeline: 'incremental' }, hostile)).status).toBe('failed');

  configFile = dir.file('tally.json');
  await writeConfigFile(configFile, config);
  const out = dir.file('report.html');
  const result = await tally('report', '--config', configFile, '--out', out);
  expect(result.code, result.stderr).toBe(0);
  reportPath = result.stdout.trim();
  expect(reportPath).toBe(out);
  await writeFile(await artifactPath('report.html'), await readFile(reportPath));

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const fileUrl = pathToFileURL(reportPath).href;
  // Every request but the file itself is refused, and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === fileUrl) return route.continue();
    requests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('request', (r) => {
    if (r.url() !== fileUrl && !requests.includes(r.url())) requests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  await page.goto(fileUrl);
  await page.waitForSelector('body[data-charts="drawn"]', { timeout: 10_000 }).catch((err: Error) => {
    throw new Error(`the charts were not drawn: ${err.message}; console: ${consoleErrors.join(' | ')}`);
  });
  await page.screenshot({ path: await artifactPath('report.png'), fullPage: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

describe('the report in a browser', () => {
  it('asks for nothing over the network and logs no error', () => {
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it("draws every chart with the run's data, on canvases that are not blank", async () => {
    const charts = await page.evaluate(() => {
      const chartJs = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart;
      return [...document.querySelectorAll('canvas')].map((canvas) => {
        const chart = chartJs.getChart(canvas) as
          | { data: { datasets: { label: string; data: unknown[] }[] } }
          | undefined;
        const ctx = canvas.getContext('2d');
        const pixels = ctx?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] ?? 0) > 0) painted++;
        return {
          id: canvas.id,
          datasets: Object.fromEntries(chart?.data.datasets.map((d) => [d.label, d.data]) ?? []),
          painted,
        };
      });
    });
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual([
      'durations',
      'failures',
      'retries',
      'rows-0',
      'rows-1',
      'steps',
    ]);
    for (const chart of charts) expect(chart.painted, chart.id).toBeGreaterThan(1000);
    // Tables sort by name: customers, then orders.
    const customers = byId['rows-0']?.datasets as Record<string, { x: number; y: number }[]>;
    const orders = byId['rows-1']?.datasets as Record<string, { x: number; y: number }[]>;
    expect(customers.historical?.map((p) => p.y)).toEqual([expect.any(Number)]);
    expect(customers.historical?.[0]?.y).toBeGreaterThan(0);
    expect(customers.incremental).toHaveLength(1);
    expect(customers.failed).toHaveLength(1);
    // orders: the historical load, the changed rows, then the empty window.
    expect(orders.historical).toHaveLength(1);
    expect(orders.incremental?.map((p) => p.y > 0)).toEqual([true, false]);
    expect(byId.failures?.datasets.failures).toEqual([1]);
    expect(byId.retries?.datasets.retries).toEqual([1]);
    // Plan, each of the seven steps of a table's chain, the chain, the whole job, and the failed table's alert.
    expect(byId.durations?.datasets.p50).toHaveLength(TIMED_STEPS.length + 4);
    // Per step and table: every step of orders' chain ran in each of its runs, and each is timed.
    const steps = byId.steps?.datasets as Record<string, (number | null)[]>;
    expect(Object.keys(steps).sort()).toEqual([
      'public.customers p50',
      'public.customers p95',
      'public.orders p50',
      'public.orders p95',
    ]);
    expect(steps['public.orders p50']).toHaveLength(TIMED_STEPS.length);
    for (const seconds of [...(steps['public.orders p50'] ?? []), ...(steps['public.orders p95'] ?? [])]) {
      expect(seconds).toEqual(expect.any(Number));
      expect(seconds).toBeGreaterThanOrEqual(0);
    }
    // The export, whose first attempt failed and was retried, takes longer than nothing.
    expect(steps['public.orders p95']?.[1]).toBeGreaterThan(0);
  });

  it('shows the hostile error message as text and runs none of it', async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    const failures = page.locator('table.warnings td.msg', { hasText: 'window.__pwned = 1' });
    expect(await failures.first().textContent()).toBe(HOSTILE);
  });

  it('shows the chain intact, each table fresh, the volume warning and the alert', async () => {
    expect(await page.getAttribute('#chain-status', 'data-verdict')).toBe('intact');
    const freshness = await page.locator('#freshness tbody tr').allTextContents();
    expect(freshness).toHaveLength(2);
    for (const row of freshness) expect(row).toMatch(/^public\.(customers|orders)fresh/);
    const body = (await page.textContent('body')) ?? '';
    expect(body).toMatch(/public\.orders: volume guard: the window has no rows/);
    expect(body).toMatch(/public\.customers failed in execution .*; an alert was published/);
  });
});

describe('tally report --table --since', () => {
  it("reads one table's events of the period, and its freshness from a success before the period", async () => {
    const out = dir.file('orders.html');
    const since = new Date().toISOString();
    const result = await tally(
      'report',
      '--config',
      configFile,
      '--out',
      out,
      '--table',
      'public.orders',
      '--since',
      since,
    );
    expect(result.code, result.stderr).toBe(0);

    const html = await readFile(out, 'utf8');
    expect(html).toContain(`0 events since\n${since.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`);
    expect(html).toContain('<h3>public.orders</h3>');
    expect(html).not.toContain('public.customers');
    const freshness = /<table id="freshness">.*?<\/table>/s.exec(html)?.[0] ?? '';
    expect(freshness).toMatch(/<td>public\.orders<\/td><td class="ok">fresh<\/td>/);
    expect(html).toContain('only public.orders&#39;s events');
    expect(html).toContain('not checked: the links between events');
  });
});

describe('tally report after the audit table was tampered with', () => {
  it('shows the chain broken, naming the changed event, from the audit log verifier', async () => {
    const { readAudit } = await import('../../cli/audit-log');
    const config = demo.config;
    const victim = (await readAudit(config, { eventTypes: ['success'] })).find(
      (e) => e.sourceTable === 'public.orders',
    );
    if (!victim) throw new Error('no success event of public.orders to tamper with');
    const sql = await connect({ ...inject('stack').snowflake, schema: config.snowflake.schema });
    try {
      await exec(
        sql,
        `UPDATE "${config.snowflake.auditTable}" SET "ROWS_LOADED" = 99999 WHERE "EVENT_ID" = ?`,
        [victim.eventId],
      );
    } finally {
      await destroy(sql);
    }
    const out = dir.file('tampered.html');
    const result = await tally('report', '--config', configFile, '--out', out);
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(out, 'utf8');
    const section = /<div class="chain bad" id="chain-status" data-verdict="broken">(.*?)<\/div>/s.exec(
      html,
    )?.[1];
    expect(section).toContain('checked by tally audit verify, run by tally report');
    expect(section).toContain(`<code>${victim.eventId}</code> (changed, found by chain, mirror`);
    expect(section).toContain('ROWS_LOADED');
  });
});
