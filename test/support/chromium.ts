// Headless Chromium for the tests that look at a page as a person would: Debian's `chromium` package
// (installed by install-chromium.mjs, which `npm test` runs first), driven by playwright-core, which
// never downloads a browser of its own. Screenshots and pages a test keeps go to test-artifacts/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Where tests keep what a person may want to look at after a run (gitignored). */
export const ARTIFACTS = resolve('test-artifacts');

export async function artifactPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: run \`node test/support/install-chromium.mjs\` (npm test runs it), or set CHROMIUM_PATH`,
    );
  }
  // No sandbox: the suite runs as root in CI, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}
