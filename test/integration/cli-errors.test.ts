// The `tally` process as a user meets it when something is wrong: one line on stderr naming the problem,
// nothing on stdout, and exit code 2 for a wrong argument or configuration.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function tally(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/tally.js', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tally errors', () => {
  it('refuses a malformed state machine ARN with one line and exit code 2', async () => {
    const result = await tally('start', '--pipeline', 'historical', '--state-machine-arn', 'my-machine');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      "tally: --state-machine-arn 'my-machine' is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)",
    ]);
  });

  it('refuses a bad option value with exit code 2 and points to --help', async () => {
    const result = await tally('bench', '--rows', 'many');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--rows <n>' argument 'many' is invalid");
    expect(result.stderr).toContain('--help');
  });

  it('prints help with exit code 0', async () => {
    const result = await tally('local', 'up', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--write-config');
  });
});
