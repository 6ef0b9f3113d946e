// `tally run` against a configuration that is valid but wrong about the world: the run fails fast,
// names the problem, records a failure in the audit log when the warehouse is reachable, and exits 1.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { readAudit } from '../../cli/audit-log';
import type { TallyConfig } from '../../lambdas/config';
import { writeConfigFile } from '../../lambdas/config-file';
import { localConfig } from '../../local/local-config';
import { scratchFolder, tally } from '../support/cli';

const dir = scratchFolder('tally-cli-run');

/** A configuration of the embedded defaults listing one table with an `id` key and `updated_at` cursor. */
function oneTableConfig(name: string) {
  return localConfig(inject('stack'), [
    { schema: 'public', name, primaryKey: ['id'], cursorColumn: 'updated_at' },
  ]);
}

/** Writes a configuration to a file and runs the historical pipeline with it, retrying quickly. */
async function runHistorical(file: string, config: TallyConfig) {
  const path = dir.file(file);
  await writeConfigFile(path, config);
  return tally('run', '--pipeline', 'historical', '--config', path, '--retry-interval-ms', '10');
}

describe('tally run', () => {
  it('fails on a table missing from PostgreSQL, names it, and audits the failure', {
    timeout: 150_000,
  }, async () => {
    const missing = `missing_${process.pid}`;
    const config = localConfig(inject('stack'), [
      { schema: 'public', name: missing, primaryKey: ['id'], cursorColumn: 'updated_at' },
    ]);
    const path = dir.file('missing.json');
    await writeConfigFile(path, config);

    const result = await tally('run', '--pipeline', 'historical', '--config', path);

    expect(result.code).toBe(1);
    const verdict = result.stdout.trim().split('\n').at(-1);
    expect(verdict).toMatch(
      /^historical pipeline FAILED in .*: SourceSchemaError: table "missing_\d+" does not exist/,
    );
    const events = await readAudit(config, { table: `public.${missing}` });
    expect(events.map((e) => [e.eventType, e.errorType])).toContainEqual(['failure', 'SourceSchemaError']);
  });

  it('fails on an unreachable PostgreSQL after its retries and says what to check', {
    timeout: 150_000,
  }, async () => {
    const config = localConfig(inject('stack'), [
      { schema: 'public', name: 'orders', primaryKey: ['id'], cursorColumn: 'updated_at' },
    ]);
    const path = dir.file('unreachable.json');
    const startedAt = new Date().toISOString();
    await writeConfigFile(path, {
      ...config,
      postgres: {
        ...config.postgres,
        url: 'postgres://tally:wrong@127.0.0.1:1/tally',
        connectTimeoutMs: 2000,
      },
    });

    const result = await tally(
      'run',
      '--pipeline',
      'historical',
      '--config',
      path,
      '--retry-interval-ms',
      '10',
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAILED in .*SourceUnavailableError: PostgreSQL at 127\.0\.0\.1:1\/tally is unavailable/,
    );
    expect(result.stdout).toContain('check postgres.host and postgres.port');
    expect(result.stderr).toContain('(retry 1)');
    expect(`${result.stdout}${result.stderr}`).not.toContain('wrong');
    const failures = (await readAudit(config, { since: startedAt })).filter(
      (e) => e.eventType === 'failure' && e.errorType === 'SourceUnavailableError',
    );
    expect(failures).toHaveLength(1);
  });

  it('fails at once on a wrong PostgreSQL password, without retrying, and audits the failure', {
    timeout: 150_000,
  }, async () => {
    const config = oneTableConfig('orders');
    const url = new URL(config.postgres.url!);
    url.password = 'not-the-password';
    const startedAt = new Date().toISOString();

    const result = await runHistorical('wrong-password.json', {
      ...config,
      postgres: { ...config.postgres, url: url.toString() },
    });

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED in .*SourceAuthError/);
    expect(result.stderr).not.toContain('(retry 1)');
    expect(`${result.stdout}${result.stderr}`).not.toContain('not-the-password');
    const failures = (await readAudit(config, { since: startedAt })).filter((e) => e.eventType === 'failure');
    expect(failures.map((e) => e.errorType)).toEqual(['SourceAuthError']);
  });

  it('fails at once on a wrong Snowflake password and names the sign-in as the problem', {
    timeout: 150_000,
  }, async () => {
    const config = oneTableConfig('cli_run_orders');
    const client = new pg.Client(config.postgres.url);
    await client.connect();
    await client.query(
      'CREATE TABLE IF NOT EXISTS public.cli_run_orders (id int PRIMARY KEY, updated_at timestamptz)',
    );
    await client.end();

    const result = await runHistorical('wrong-snowflake.json', {
      ...config,
      snowflake: { ...config.snowflake, password: 'not-the-password' },
    });

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED in .*WarehouseAuthError/);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain('not-the-password');
  });
  it('never leaves loopback under TALLY_LOOPBACK_ONLY, as the tests run it: a PostgreSQL elsewhere is refused', {
    timeout: 150_000,
  }, async () => {
    expect(process.env.TALLY_LOOPBACK_ONLY).toBe('1');
    const config = oneTableConfig('orders');
    // 192.0.2.1 is reserved for documentation: nothing answers there.
    const away = {
      ...config,
      postgres: { ...config.postgres, url: 'postgres://tally:x@192.0.2.1:5432/tally' },
    };
    const result = await runHistorical('away.json', away);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('refused a connection to 192.0.2.1');
  });
});
