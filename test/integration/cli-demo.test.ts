// `tally demo` (what `npm start` runs), end to end in its own process: both pipelines succeed for every
// demo table and the audit log it prints shows matching counts.
import { describe, expect, it } from 'vitest';
import { DEMO_TABLES } from '../../local/demo-data';
import { tallyWith } from '../support/cli';

describe('tally demo', () => {
  it('runs both pipelines and prints a success row with equal counts for every table', {
    timeout: 240_000,
  }, async () => {
    const { code, stdout, stderr } = await tallyWith({ timeoutMs: 230_000 }, 'demo', '--rows', '300');
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.some((l) => /^historical pipeline SUCCEEDED/.test(l))).toBe(true);
    expect(lines.some((l) => /^incremental pipeline SUCCEEDED/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/^demo SUCCEEDED in /);
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
