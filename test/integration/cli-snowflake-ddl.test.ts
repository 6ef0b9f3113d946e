// `tally snowflake-ddl`: the administrator's script for the configured tables, derived from the source.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localConfig } from '../../local/cli/local-config';
import { writeConfigFile } from '../../local/config-file';
import { DEMO_TABLES, seedDemo } from '../../local/demo-data';

const execute = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-ddl-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tally snowflake-ddl', () => {
  it('prints roles, grants and a target table per configured table', { timeout: 120_000 }, async () => {
    const stack = inject('stack');
    const database = `ddl_${process.pid}`;
    const admin = new pg.Client({ connectionString: stack.postgres.url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(stack.postgres.url);
    url.pathname = `/${database}`;
    await seedDemo(url.toString(), { rows: 5, seed: 1 });
    const config = localConfig({ ...stack, postgres: { url: url.toString() } }, DEMO_TABLES);
    const path = join(dir, 'tally.json');
    await writeConfigFile(path, config);
    const role = 'arn:aws:iam::123456789012:role/tally-snowflake-read';

    const { stdout } = await execute(
      process.execPath,
      ['bin/tally.js', 'snowflake-ddl', '--config', path, '--aws-role-arn', role],
      { timeout: 110_000 },
    );

    expect(stdout).toContain('CREATE ROLE IF NOT EXISTS TALLY_LOADER;');
    expect(stdout).toContain(`STORAGE_AWS_ROLE_ARN = '${role}'`);
    expect(stdout).toMatch(/GRANT INSERT, SELECT ON TABLE \S+TALLY_AUDIT_LOG TO ROLE TALLY_AUDIT_WRITER;/);
    for (const table of DEMO_TABLES) {
      expect(stdout).toMatch(new RegExp(`CREATE TABLE IF NOT EXISTS \\S*${table.name.toUpperCase()}\\b`));
    }
  });
});
