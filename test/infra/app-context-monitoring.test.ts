// The CDK app as `cdk synth` runs it, with -c freshnessIntervals: how many schedule intervals a table may
// go without a verified window before its alarm, and a wrong value refused.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Resource, synthApp } from '../support/cdk-app';
import { scratchFolder } from '../support/cli';

const out = scratchFolder('tally-app-monitoring');
const synth = (context: Record<string, string>, folder: string) => synthApp(context, join(out.path, folder));

/** The evaluation periods of each freshness alarm. */
const freshness = (resources: readonly Resource[]) =>
  resources
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .filter((r) => (JSON.stringify(r.Properties.Metrics) ?? '').includes('"VerifiedWindows"'))
    .map((r) => r.Properties.EvaluationPeriods);

describe('cdk synth -c freshnessIntervals', () => {
  it('alarms after 3 intervals by default and after N with -c freshnessIntervals=N, with the schedule enabled', async () => {
    const [plain, five] = await Promise.all([
      synth({ schedule: 'enabled' }, 'plain'),
      synth({ schedule: 'enabled', freshnessIntervals: '5' }, 'five'),
    ]);
    expect(plain.code).toBe(0);
    // The example configuration's two tables.
    expect(freshness(plain.resources)).toEqual([3, 3]);
    expect(five.code).toBe(0);
    expect(freshness(five.resources)).toEqual([5, 5]);
  }, 180_000);

  it('refuses a value that is not a whole number of intervals, naming it', async () => {
    const [zero, word] = await Promise.all([
      synth({ freshnessIntervals: '0' }, 'zero'),
      synth({ freshnessIntervals: 'three' }, 'three'),
    ]);
    expect(zero.code).not.toBe(0);
    expect(zero.stderr).toContain(
      '-c freshnessIntervals=0: expected a whole number of schedule intervals, at least 1',
    );
    expect(word.code).not.toBe(0);
    expect(word.stderr).toContain('-c freshnessIntervals=three: expected a whole number');
  }, 120_000);
});
