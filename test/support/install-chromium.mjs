// Makes sure Debian's Chromium is on the machine for the report's browser test: `npm test` runs this first
// (`pretest`). The browser comes from the distribution's own package, never from a download of a browser
// build (playwright-core only drives it). Exits 0 when Chromium is there or was installed, 1 with what to
// do when it is absent and cannot be installed here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts the browser; CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function fail(message) {
  console.error(`install-chromium: ${message}`);
  process.exit(1);
}

if (existsSync(CHROMIUM)) process.exit(0);
if (process.env.CHROMIUM_PATH) {
  fail(`CHROMIUM_PATH is ${CHROMIUM}, which does not exist: point it at a Chromium binary, or unset it`);
}
const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
if (aptGet === '') {
  fail(
    `${CHROMIUM} is missing and this machine has no apt-get: install Chromium with the system's package manager and set CHROMIUM_PATH to its binary`,
  );
}
if (process.getuid?.() !== 0) {
  fail(
    `${CHROMIUM} is missing and installing it needs root: run \`sudo apt-get install -y chromium\` once, then npm test again`,
  );
}
console.error(`install-chromium: ${CHROMIUM} is missing; installing Debian's chromium package...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update'],
  ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-liberation'],
]) {
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (run.status !== 0) fail(`apt-get ${args.join(' ')} failed (exit ${run.status ?? run.signal})`);
}
if (!existsSync(CHROMIUM)) fail(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
console.error(`install-chromium: installed ${CHROMIUM}`);
