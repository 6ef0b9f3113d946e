// The one test that bundles: every step's handler, built by esbuild as the deployed stack builds it,
// is an ES module that loads on Node and exports `handler`, with names kept for error routing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/runtime/env';
import { STEP_NAMES } from '../../lambdas/steps/registry';
import { PROJECT_ROOT } from '../../lib/step-lambda';
import { buildStack, render, resourcesOf } from '../support/cdk';

const outdir = mkdtempSync(join(tmpdir(), 'tally-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/**
 * A configuration the handlers accept at cold start. No secret is named: the secrets middleware would
 * fetch it while the module loads, and this test contacts nothing.
 */
const COLD_START_ENV = {
  [ENV.config]: JSON.stringify({
    tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
    postgres: { host: '127.0.0.1', database: 'shop' },
    s3: { bucket: 'tally-bucket' },
    snowflake: { account: 'acme', username: 'TALLY', password: 'unused', database: 'ANALYTICS' },
  }),
  AWS_REGION: 'eu-west-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe('bundling', () => {
  // An esbuild run and a module load per step: minutes on a busy machine, not a hang.
  it('builds each step into an ES module that loads and exports its handler', { timeout: 300_000 }, () => {
    const app = new App({ outdir });
    const stack = buildStack({}, app);
    const template = Template.fromStack(stack);
    // The bundles import the AWS SDK, which Lambda provides; here the project's copy stands in for it.
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');

    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(STEP_NAMES.length);
    // A function's code is the asset whose hash names its S3 key; its step is its TALLY_STEP.
    const assets = functions.map((fn) => {
      const key = render((fn.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key);
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
      return { asset: join(outdir, `asset.${key.replace(/\.zip$/, '')}`), step: variables[ENV.step] };
    });
    expect(assets.map((a) => a.step).sort()).toEqual([...STEP_NAMES].sort());
    for (const { asset, step } of assets) {
      const bundle = join(asset, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      expect(existsSync(`${bundle}.map`), `${bundle}.map`).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      // keepNames: esbuild re-attaches names that minification or renaming would lose.
      expect(code).toContain('__name(');
      const loaded = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`,
        ],
        {
          env: {
            ...process.env,
            ...COLD_START_ENV,
            [ENV.step]: step,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      expect(loaded.trim(), `${step}: ${bundle}`).toBe('function');
    }
  });
});
