// The `tally` command line as a user runs it, for the tests that start it: a child process of
// `bin/tally.js` whose exit code, stdout and stderr come back whether it succeeded or not, and a
// scratch folder per test file for the configuration files it reads.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

const execute = promisify(execFile);

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Kills the process after this long. Default 120 s. */
  readonly timeoutMs?: number;
  /** The child's environment. Default: this process's, without TALLY_CONFIG (it would stand in for --config). */
  readonly env?: NodeJS.ProcessEnv;
}

export function tally(...args: string[]): Promise<CliResult> {
  return tallyWith({}, ...args);
}

export async function tallyWith(options: CliOptions, ...args: string[]): Promise<CliResult> {
  const { TALLY_CONFIG: _ignored, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await execute(process.execPath, ['bin/tally.js', ...args], {
      timeout: options.timeoutMs ?? 120_000,
      env: options.env ?? inherited,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A folder made before the file's tests and removed after them; read `path` inside a test or hook. */
export function scratchFolder(prefix: string): { readonly path: string; file(name: string): string } {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const path = () => {
    if (!dir) throw new Error('the scratch folder is made in beforeAll: use it inside a test');
    return dir;
  };
  return {
    get path() {
      return path();
    },
    file: (name) => join(path(), name),
  };
}
