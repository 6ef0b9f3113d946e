// Runs a command on the Node.js 24 binary of the optional dependency node-<platform>-<arch> (the major
// the Lambda runtime runs), so `npm test` also runs tests on Node 24 on a machine whose Node is older:
// `node test/support/on-node24.mjs <script> [args...]`. Exits with the command's status.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const pkg = `node-${process.platform}-${process.arch}`;
let binary;
try {
  binary = createRequire(import.meta.url).resolve(`${pkg}/bin/node`);
} catch {
  console.error(
    `Node 24 comes from the optional dependency ${pkg}, which is not installed: run npm ci on linux (x64 or arm64), where package.json pins it`,
  );
  process.exit(1);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
