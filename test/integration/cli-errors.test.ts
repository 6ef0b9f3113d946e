// The `tally` process as a user meets it when something is wrong: one line on stderr naming the problem,
// nothing on stdout, and exit code 2 for a wrong argument or configuration.
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { scratchFolder, tally } from '../support/cli';

const dir = scratchFolder('tally-cli-errors');

const goodConfig = {
  tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
  postgres: { url: 'postgres://tally:pw@127.0.0.1:1/shop' },
  s3: { bucket: 'tally-bucket', endpoint: 'http://127.0.0.1:1', forcePathStyle: true },
  snowflake: { account: 'acme', username: 'TALLY', password: 'pw', database: 'ANALYTICS' },
};

describe('tally errors', () => {
  it('stops at a bad configuration file before running anything, naming the setting', async () => {
    const path = dir.file('bad.json');
    await writeFile(path, JSON.stringify({ ...goodConfig, pipeline: { gzipLevel: 12 } }));
    const result = await tally('run', '--pipeline', 'historical', '--config', path);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^tally: InvalidConfigError: invalid configuration file .*bad\.json: pipeline\.gzipLevel: /,
    );
  });

  it('names a configuration file that does not exist', async () => {
    const result = await tally('audit', '--config', dir.file('missing.json'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing.json does not exist');
  });

  it('asks for a configuration when reading the audit log without one', async () => {
    const result = await tally('audit');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --config FILE');
  });

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
