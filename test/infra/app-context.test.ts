// The CDK app as `cdk synth` runs it, with -c schedule (off unless enabled, and a wrong value refused) and
// -c auditVerification (deployed unless disabled, running daily with the schedule or when enabled).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Resource, synthApp } from '../support/cdk-app';
import { scratchFolder } from '../support/cli';

const out = scratchFolder('tally-app');
const synth = (context: Record<string, string>, folder: string) => synthApp(context, join(out.path, folder));

/** Each schedule's state, by its expression: the pipeline's every 30 minutes, the verification's daily. */
const scheduleState = (resources: readonly Resource[]) =>
  Object.fromEntries(
    resources
      .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression !== undefined)
      .map((r) => [r.Properties.ScheduleExpression, r.Properties.State]),
  );

describe('cdk synth -c schedule', () => {
  it('leaves the schedules disabled by default and enables them with -c schedule=enabled', async () => {
    const [plain, enabled] = await Promise.all([
      synth({}, 'plain'),
      synth({ schedule: 'enabled' }, 'enabled'),
    ]);
    expect(plain.code).toBe(0);
    expect(scheduleState(plain.resources)).toEqual({
      'rate(30 minutes)': 'DISABLED',
      'rate(1 day)': 'DISABLED',
    });
    expect(enabled.code).toBe(0);
    expect(scheduleState(enabled.resources)).toEqual({
      'rate(30 minutes)': 'ENABLED',
      'rate(1 day)': 'ENABLED',
    });
  }, 180_000);

  it('leaves the audit verification out with -c auditVerification=disabled, and runs it daily whatever the schedule with enabled', async () => {
    const [disabled, enabled] = await Promise.all([
      synth({ auditVerification: 'disabled' }, 'verification-disabled'),
      synth({ auditVerification: 'enabled' }, 'verification-enabled'),
    ]);
    expect(disabled.code).toBe(0);
    expect(scheduleState(disabled.resources)).toEqual({ 'rate(30 minutes)': 'DISABLED' });
    const verifying = (resources: readonly Resource[]) =>
      resources.filter(
        (r) =>
          r.Type === 'AWS::Lambda::Function' &&
          JSON.stringify(r.Properties.Environment ?? {}).includes('"verifyAudit"'),
      );
    expect(verifying(disabled.resources)).toEqual([]);
    expect(enabled.code).toBe(0);
    expect(scheduleState(enabled.resources)).toEqual({
      'rate(30 minutes)': 'DISABLED',
      'rate(1 day)': 'ENABLED',
    });
    expect(verifying(enabled.resources)).toHaveLength(1);
  }, 180_000);

  it('refuses a value other than enabled or disabled, naming it', async () => {
    const run = await synth({ schedule: 'weekly' }, 'weekly');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("-c schedule=weekly: expected 'enabled' or 'disabled'");
  }, 120_000);
});
