// The CDK app as `cdk synth` runs it (cdk.json's command), for the tests of its context settings: the CLI
// passes `-c key=value` to the app as CDK_CONTEXT_JSON and the output folder as CDK_OUTDIR
// (https://docs.aws.amazon.com/cdk/v2/guide/context.html). Bundling is skipped: the template is what is read.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NO_BUNDLING } from './cdk';

const execute = promisify(execFile);

export type Resource = { Type: string; Properties: Record<string, unknown> };

export interface AppSynth {
  readonly code: number;
  readonly stderr: string;
  /** The template's resources; empty when the synth failed. */
  readonly resources: Resource[];
}

/** Runs `bin/app.ts` with `context`, writing the cloud assembly to `outdir`. */
export async function synthApp(context: Record<string, string>, outdir: string): Promise<AppSynth> {
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
    return { code: e.code, stderr: e.stderr, resources: [] };
  }
  const template = JSON.parse(await readFile(join(outdir, 'Tally.template.json'), 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  return { code: 0, stderr: '', resources: Object.values(template.Resources) };
}
