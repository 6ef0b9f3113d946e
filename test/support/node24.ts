// The Node.js 24 binary the bundles are tested on, the major the Lambda runtime runs (nodejs24.x). It
// comes from the npm package of Node's official build for this platform (an optional dependency pinned in
// package.json), so the tests need no Node 24 installed on the machine.
import { createRequire } from 'node:module';

export const NODE24_MAJOR = 24;

/** The path of the Node 24 binary; fails, naming the package, when it is not installed. */
export function node24Binary(): string {
  const pkg = `node-${process.platform}-${process.arch}`;
  try {
    return createRequire(import.meta.url).resolve(`${pkg}/bin/node`);
  } catch {
    throw new Error(
      `Node ${NODE24_MAJOR} comes from the optional dependency ${pkg}, which is not installed: run npm ci on linux (x64 or arm64), where package.json pins it`,
    );
  }
}
