// The CDK app as `cdk synth` runs it (cdk.json's command), with its context settings: the CLI passes
// `-c key=value` to the app as CDK_CONTEXT_JSON and the output folder as CDK_OUTDIR
// (https://docs.aws.amazon.com/cdk/v2/guide/context.html). Bundling is skipped: the template is what is read.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NO_BUNDLING } from '../support/cdk';
import { scratchFolder } from '../support/cli';

const execute = promisify(execFile);
const out = scratchFolder('tally-app');

async function synth(context: Record<string, string>, folder: string) {
  const outdir = join(out.path, folder);
  try {
    await execute(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      timeout: 120_000,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...NO_BUNDLING, ...context }),
      },
    });
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr, template: undefined };
  }
  const template = JSON.parse(await readFile(join(outdir, 'Tally.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  return { code: 0, stderr: '', template };
}

const scheduleState = (template: {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}) =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression !== undefined)
    .map((r) => r.Properties.State);

describe('cdk synth -c schedule', () => {
  it('leaves the schedule disabled by default and enables it with -c schedule=enabled', async () => {
    const [plain, enabled] = await Promise.all([
      synth({}, 'plain'),
      synth({ schedule: 'enabled' }, 'enabled'),
    ]);
    expect(plain.code).toBe(0);
    expect(scheduleState(plain.template!)).toEqual(['DISABLED']);
    expect(enabled.code).toBe(0);
    expect(scheduleState(enabled.template!)).toEqual(['ENABLED']);
  }, 180_000);

  it('refuses a value other than enabled or disabled, naming it', async () => {
    const run = await synth({ schedule: 'weekly' }, 'weekly');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("-c schedule=weekly: expected 'enabled' or 'disabled'");
  }, 120_000);
});
