// The report as one self-contained HTML file: its style, Chart.js (read from the installed package) and
// the page's script are inlined, the charts' data rides in a JSON block, and a Content-Security-Policy
// lets nothing load from anywhere, so the file opens offline. Everything taken from the audit log is
// escaped; only the two scripts the page was written with may run (their hashes are in the policy).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import escapeHtml from 'escape-html';
import { TIMED_STEPS } from '../../lambdas/domain/step-durations';
import type { ChainStatus } from './chain-status';
import type { PhaseStats, Report, Run, TableReport, Warning } from './model';
import { PHASES } from './model';

/** The newest runs of a table listed as rows; all of them are in its chart. */
const LISTED_RUNS = 20;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 16px 48px; color: #1f2328; }
h1 { margin: 24px 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #59636e; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 20px; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } .warn { color: #9a6700; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.msg { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.chart { position: relative; height: 260px; margin: 8px 0 16px; }
.chain { border: 2px solid; border-radius: 6px; padding: 8px 14px; }
.chain.ok { border-color: #1a7f37; } .chain.bad { border-color: #cf222e; }
`;

/** Renders the report; `chain` is the report's own or one from the full verifier. */
export function renderReport(report: Report): string {
  const chartJs = chartLibrary();
  const pageJs = readFileSync(join(here(), 'page.js'), 'utf8');
  const csp = [
    "default-src 'none'",
    `script-src ${[chartJs, pageJs].map(sha256Source).join(' ')}`,
    `style-src ${sha256Source(STYLE)}`,
    "img-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  const stale = report.tables.filter((t) => t.freshness.state !== 'fresh').length;
  const failures = report.failures.length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tally report, ${esc(day(report.generatedAt))}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Tally report</h1>
<p class="meta">Drawn from the audit log at ${esc(time(report.generatedAt))}: ${report.eventCount} events since
${esc(time(report.since))}${report.truncated ? `, the newest ${report.truncated.maxEvents} of the period (pass a later <code>--since</code> or a larger <code>--max-events</code> to see all)` : ''}.
Freshness counts a table stale after ${report.schedule.intervals} schedule intervals of ${report.schedule.intervalMinutes} minutes without a verified window.</p>
<div class="cards">
${card('hash chain', report.chain.verdict, report.chain.verdict === 'intact' ? 'ok' : 'bad')}
${card('tables', String(report.tables.length), '')}
${card('stale or never verified', String(stale), stale > 0 ? 'warn' : 'ok')}
${card('failures', String(failures), failures > 0 ? 'bad' : 'ok')}
${card('retries', String(report.retriesByStep.reduce((n, r) => n + r.count, 0)), '')}
${card('volume warnings', String(report.volumeWarnings.length), report.volumeWarnings.length > 0 ? 'warn' : 'ok')}
${card('alerts', String(report.alerts.length), report.alerts.length > 0 ? 'bad' : 'ok')}
</div>
${chainSection(report.chain)}
<h2>Freshness</h2>
${freshnessTable(report.tables)}
<h2>Rows moved per run</h2>
${report.tables.map(tableSection).join('\n')}
<h2>Durations (p50, p95)</h2>
<p class="meta">From the audit log: Plan (the job's start to a table's start event), each step of a table's
chain (its Lambda invocation, which the table's success or failure event records), the chain as a whole,
the whole job and the alert. Runs written before the steps were recorded show only the coarse parts.</p>
${report.durations.length > 0 ? '<div class="chart"><canvas id="durations"></canvas></div>' : '<p>No timed runs in the period.</p>'}
${report.tables.some((t) => t.durations.some(isStep)) ? '<h3>Per step and table</h3><div class="chart"><canvas id="steps"></canvas></div>' : ''}
${durationTable(report.tables, report.durations)}
<h2>Failures and retries</h2>
${
  report.failuresByError.length > 0
    ? '<h3>Failures by error name</h3><div class="chart"><canvas id="failures"></canvas></div>'
    : '<p>No failure in the period.</p>'
}
${
  report.retriesByStep.length > 0
    ? '<h3>Retries by step</h3><div class="chart"><canvas id="retries"></canvas></div>'
    : '<p>No retry in the period.</p>'
}
${warningTable(report.failures, 'failures')}
<h2>Volume-guard warnings</h2>
${warningTable(report.volumeWarnings, 'volume-guard warnings')}
<h2>Alerts</h2>
${warningTable(report.alerts, 'alerts')}
<script type="application/json" id="report-data">${jsonForScript(chartData(report))}</script>
<script>${chartJs}</script>
<script>${pageJs}</script>
</body>
</html>
`;
}

function chainSection(chain: ChainStatus): string {
  const ok = chain.verdict === 'intact';
  return `<h2>Hash chain</h2>
<div class="chain ${ok ? 'ok' : 'bad'}" id="chain-status" data-verdict="${esc(chain.verdict)}">
<p><b class="${ok ? 'ok' : 'bad'}">${ok ? 'intact' : 'BROKEN'}</b>: ${chain.checked} events checked by ${esc(chain.checkedBy)}.</p>
<p>Checked: ${esc(chain.scope)}.</p>
${chain.broken ? `<p class="bad">First event that does not hold: <code>${esc(chain.broken.eventId)}</code> (${esc(chain.broken.reason)}).</p>` : ''}
</div>`;
}

function freshnessTable(tables: readonly TableReport[]): string {
  if (tables.length === 0) return '<p>No table.</p>';
  const rows = tables.map(({ table, freshness: f }) => {
    const cls = f.state === 'fresh' ? 'ok' : f.state === 'stale' ? 'bad' : 'warn';
    return `<tr><td>${esc(table)}</td><td class="${cls}">${esc(f.state)}</td><td class="n">${f.ageMs === null ? '' : esc(age(f.ageMs))}</td><td class="n">${esc(age(f.limitMs))}</td><td>${esc(f.basis ?? '')}</td><td>${esc(f.windowEnd ?? (f.verifiedAt ? 'whole table' : ''))}</td><td>${esc(f.verifiedAt ? time(f.verifiedAt) : '')}</td></tr>`;
  });
  return `<table id="freshness"><thead><tr><th>table</th><th>state</th><th>age</th><th>stale after</th><th>age from</th><th>last verified window ends</th><th>verified at</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function tableSection(t: TableReport, index: number): string {
  const runs = t.runs.slice(-LISTED_RUNS).reverse();
  const header = `<h3>${esc(t.table)}</h3><p class="meta">${t.runs.length} runs, ${t.failures} failures, ${t.retries} retries${t.runs.length > LISTED_RUNS ? `; the newest ${LISTED_RUNS} listed` : ''}.</p>`;
  if (t.runs.length === 0) return `${header}<p>No run in the period.</p>`;
  return `${header}
<div class="chart"><canvas id="rows-${index}"></canvas></div>
<table class="runs"><thead><tr><th>at</th><th>pipeline</th><th>status</th><th>rows</th><th>window</th><th>duration</th><th>retries</th><th>error</th></tr></thead><tbody>
${runs.map(runRow).join('\n')}
</tbody></table>`;
}

function runRow(r: Run): string {
  const cls = r.status === 'succeeded' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn';
  const window =
    r.windowStart === null && r.windowEnd === null
      ? 'whole table'
      : `${r.windowStart ?? '…'} → ${r.windowEnd ?? '…'}`;
  const error =
    r.errorType === null
      ? ''
      : `<b>${esc(r.errorType)}</b> <span class="msg">${esc(r.errorMessage ?? '')}</span>`;
  return `<tr><td>${esc(time(r.at))}</td><td>${esc(r.pipeline)}</td><td class="${cls}">${esc(r.status)}${r.alerted ? ', alerted' : ''}</td><td class="n">${r.rows ?? ''}</td><td>${esc(window)}</td><td class="n">${r.durationMs === null ? '' : esc(age(r.durationMs))}</td><td class="n">${r.retries}</td><td>${error}</td></tr>`;
}

function durationTable(tables: readonly TableReport[], overall: readonly PhaseStats[]): string {
  const rows = [
    ...tables.flatMap((t) => t.durations.map((d) => [t.table, d] as const)),
    ...overall.map((d) => ['every table', d] as const),
  ];
  if (rows.length === 0) return '';
  const described = new Map<string, string>(PHASES.map((p) => [p.name, `from ${p.from} to ${p.to}`]));
  return `<table id="durations-table"><thead><tr><th>table</th><th>part of the job</th><th>runs</th><th>p50</th><th>p95</th></tr></thead><tbody>
${rows
  .map(
    ([table, d]) =>
      `<tr><td>${esc(table)}</td><td title="${esc(described.get(d.phase) ?? '')}">${esc(d.phase)}</td><td class="n">${d.count}</td><td class="n">${esc(age(d.p50Ms))}</td><td class="n">${esc(age(d.p95Ms))}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

function warningTable(warnings: readonly Warning[], what: string): string {
  if (warnings.length === 0) return `<p>No ${esc(what)} in the period.</p>`;
  return `<table class="warnings"><thead><tr><th>at</th><th>table</th><th>pipeline</th><th>kind</th><th>message</th><th>execution</th></tr></thead><tbody>
${warnings
  .map(
    (w) =>
      `<tr><td>${esc(time(w.at))}</td><td>${esc(w.table ?? '(the job)')}</td><td>${esc(w.pipeline)}</td><td>${esc(w.kind)}</td><td class="msg">${esc(w.message)}</td><td class="msg">${esc(w.executionId)}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

function card(label: string, value: string, cls: string): string {
  return `<div class="card"><span>${esc(label)}</span><b class="${cls}">${esc(value)}</b></div>`;
}

/** Whether a part of the job is one of the table chain's Lambda steps. */
function isStep(d: PhaseStats): boolean {
  return (TIMED_STEPS as readonly string[]).includes(d.phase);
}

/** What the page's script draws: numbers and labels only. */
function chartData(report: Report) {
  return {
    tables: report.tables.map((t) => ({
      table: t.table,
      runs: t.runs
        .filter((r) => r.status === 'succeeded' || r.status === 'failed')
        .map((r) => ({ x: Date.parse(r.at), y: r.rows ?? 0, status: r.status, pipeline: r.pipeline })),
    })),
    durations: report.durations.map((d) => ({ phase: d.phase, p50Ms: d.p50Ms, p95Ms: d.p95Ms })),
    // Each table's p50 and p95 of every step (null where the table has no timed run of it).
    steps: {
      labels: TIMED_STEPS,
      tables: report.tables
        .filter((t) => t.durations.some(isStep))
        .map((t) => {
          const of = (step: string) => t.durations.find((d) => d.phase === step);
          return {
            table: t.table,
            p50Ms: TIMED_STEPS.map((step) => of(step)?.p50Ms ?? null),
            p95Ms: TIMED_STEPS.map((step) => of(step)?.p95Ms ?? null),
          };
        }),
    },
    failuresByError: report.failuresByError,
    retriesByStep: report.retriesByStep,
  };
}

/**
 * JSON that cannot end its `<script>` element early: `<` becomes `\u003c` (so no `</script>` or
 * `<!--` survives), and the two line separators JavaScript once refused are escaped too.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Chart.js's minified UMD build, from the installed package, without its source-map comment. */
function chartLibrary(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js');
  const source = readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
  const code = source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/<\/script/i.test(code)) throw new Error('chart.umd.min.js holds </script>: it cannot be inlined');
  return code;
}

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function here(): string {
  return dirname(fileURLToPath(import.meta.url));
}

function esc(value: string): string {
  return escapeHtml(value);
}

function time(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

/** A duration for a person: 850 ms, 12.3 s, 4 min 5 s, 3 h 20 min, 2 d 4 h. */
export function age(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  if (m < 1440) return `${Math.floor(m / 60)} h ${m % 60} min`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
