// `tally demo` (what `npm start` runs), end to end in its own process: both pipelines succeed for every
// demo table and the audit log it prints shows matching counts.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEMO_TABLES } from '../../local/demo-data';
import { scratchFolder, tallyWith } from '../support/cli';

const dir = scratchFolder('tally-demo');

describe('tally demo', () => {
  it('runs both pipelines, prints a success row with equal counts for every table, and writes the report', {
    timeout: 240_000,
  }, async () => {
    const out = dir.file('report.html');
    const { code, stdout, stderr } = await tallyWith(
      { timeoutMs: 230_000 },
      'demo',
      '--rows',
      '300',
      '--report',
      out,
    );
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.some((l) => /^historical pipeline SUCCEEDED/.test(l))).toBe(true);
    expect(lines.some((l) => /^incremental pipeline SUCCEEDED/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/^demo SUCCEEDED in /);
    expect(lines.at(-3)).toBe(`report: ${out}`);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<title>Tally report');
    for (const table of DEMO_TABLES) expect(html).toContain(`<h3>public.${table.name}</h3>`);
    // Audit rows: job, table, event, count before, count after, duration, status.
    const successes = lines
      .map((l) => l.trim().split(/\s{2,}/))
      .filter((cells) => cells[2] === 'success' && cells[6] === 'SUCCEEDED');
    for (const table of DEMO_TABLES) {
      const rows = successes.filter((cells) => cells[1] === `public.${table.name}`);
      expect(rows, table.name).toHaveLength(2);
      for (const cells of rows) expect(cells[3], table.name).toBe(cells[4]);
    }
  });
});
