// The CDK app as `cdk synth` runs it, with -c schedule: off unless enabled, and a wrong value refused.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Resource, synthApp } from '../support/cdk-app';
import { scratchFolder } from '../support/cli';

const out = scratchFolder('tally-app');
const synth = (context: Record<string, string>, folder: string) => synthApp(context, join(out.path, folder));

const scheduleState = (resources: readonly Resource[]) =>
  resources
    .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression !== undefined)
    .map((r) => r.Properties.State);

describe('cdk synth -c schedule', () => {
  it('leaves the schedule disabled by default and enables it with -c schedule=enabled', async () => {
    const [plain, enabled] = await Promise.all([
      synth({}, 'plain'),
      synth({ schedule: 'enabled' }, 'enabled'),
    ]);
    expect(plain.code).toBe(0);
    expect(scheduleState(plain.resources)).toEqual(['DISABLED']);
    expect(enabled.code).toBe(0);
    expect(scheduleState(enabled.resources)).toEqual(['ENABLED']);
  }, 180_000);

  it('refuses a value other than enabled or disabled, naming it', async () => {
    const run = await synth({ schedule: 'weekly' }, 'weekly');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("-c schedule=weekly: expected 'enabled' or 'disabled'");
  }, 120_000);
});
