import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../lambdas/domain/errors';
import { applySecrets } from '../../../lambdas/runtime/credentials';
import { ENV, loadRuntimeSettings } from '../../../lambdas/runtime/env';

function thrown(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

const base = {
  tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
  postgres: { host: 'db.internal', database: 'shop' },
  s3: { bucket: 'bucket' },
  snowflake: { account: 'acct', username: 'tally', database: 'DB' },
};

describe('Lambda configuration at cold start', () => {
  it('fails naming the variable when the configuration is missing', () => {
    expect(() => loadRuntimeSettings({})).toThrow(new RegExp(ENV.config));
  });

  it('fails naming the wrong setting', () => {
    const json = JSON.stringify({
      ...base,
      s3: { bucket: 'b' },
      snowflake: { ...base.snowflake, password: 'x' },
    });
    const err = thrown(() => loadRuntimeSettings({ [ENV.config]: json }));
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err?.message).toContain('s3.bucket');
  });

  it('requires no Snowflake credential in the configuration when a secret provides it', () => {
    const settings = loadRuntimeSettings({
      [ENV.config]: JSON.stringify(base),
      [ENV.snowflakeSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sf',
    });
    const config = applySecrets(settings.config, { snowflake: { privateKey: 'KEY' } });
    expect(config.snowflake.privateKey).toBe('KEY');
    expect(config.snowflake.password).toBeUndefined();
  });

  it('reads the OpenLineage settings of the deployed configuration and the environment, and fails naming a bad one', () => {
    const codeDir = mkdtempSync(join(tmpdir(), 'tally-code-'));
    const env = {
      [ENV.config]: JSON.stringify({ ...base, snowflake: { ...base.snowflake, password: 'x' } }),
    };
    expect(loadRuntimeSettings(env, { codeDir }).lineage).toBeNull();
    const fromEnv = loadRuntimeSettings(
      { ...env, OPENLINEAGE_URL: 'https://lineage.example.com' },
      { codeDir },
    );
    expect(fromEnv.lineage?.transport).toMatchObject({ type: 'http', url: 'https://lineage.example.com' });
    const deployed = {
      [ENV.config]: JSON.stringify({
        ...base,
        snowflake: { ...base.snowflake, password: 'x' },
        lineage: { transport: { type: 'http', url: 'https://marquez.internal', apiKeySecret: 'tally/ol' } },
      }),
    };
    expect(loadRuntimeSettings(deployed, { codeDir }).lineage?.transport).toMatchObject({
      apiKeySecret: 'tally/ol',
    });
    const err = thrown(() => loadRuntimeSettings({ ...env, OPENLINEAGE_URL: 'marquez:5000' }, { codeDir }));
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err?.message).toContain('OPENLINEAGE_URL');
  });

  it('demands a Snowflake credential when no secret provides it', () => {
    expect(() => loadRuntimeSettings({ [ENV.config]: JSON.stringify(base) })).toThrow(/snowflake/);
  });

  it('merges the bundled configuration file under the environment keys, and names a file it cannot read', () => {
    const codeDir = mkdtempSync(join(tmpdir(), 'tally-code-'));
    const { tables, snowflake, ...rest } = base;
    writeFileSync(
      join(codeDir, 'tally-config.json'),
      JSON.stringify({ tables, snowflake: { ...snowflake, password: 'x' } }),
    );
    const env = { [ENV.config]: JSON.stringify(rest), [ENV.configFile]: 'tally-config.json' };
    const settings = loadRuntimeSettings(env, { codeDir });
    expect(settings.config.tables.map((t) => t.name)).toEqual(['orders']);
    expect(settings.config.postgres.host).toBe('db.internal');
    // Found from Lambda's LAMBDA_TASK_ROOT when not told where.
    expect(loadRuntimeSettings({ ...env, LAMBDA_TASK_ROOT: codeDir }).config.snowflake.account).toBe('acct');

    expect(() => loadRuntimeSettings({ ...env, [ENV.configFile]: 'missing.json' }, { codeDir })).toThrow(
      new RegExp(`${ENV.configFile} names .*missing\\.json, which cannot be read \\(ENOENT\\)`),
    );
    writeFileSync(join(codeDir, 'broken.json'), '{"tables": [');
    expect(() => loadRuntimeSettings({ ...env, [ENV.configFile]: 'broken.json' }, { codeDir })).toThrow(
      /broken\.json \(TALLY_CONFIG_FILE\) is not valid JSON/,
    );
    writeFileSync(join(codeDir, 'list.json'), '[]');
    expect(() => loadRuntimeSettings({ ...env, [ENV.configFile]: 'list.json' }, { codeDir })).toThrow(
      /list\.json must hold a JSON object/,
    );
  });

  it('needs no Snowflake credential for a step that does not sign in to Snowflake', () => {
    const env = { [ENV.config]: JSON.stringify(base) };
    expect(() => loadRuntimeSettings(env, { signsInToWarehouse: true })).toThrow(/snowflake/);
    const settings = loadRuntimeSettings(env, { signsInToWarehouse: false });
    expect(settings.config.snowflake.account).toBe(base.snowflake.account);
    expect(settings.snowflakeSecretArn).toBeUndefined();
  });
});

describe('credentials from Secrets Manager', () => {
  it('takes PostgreSQL credentials from an RDS-style secret', () => {
    const settings = loadRuntimeSettings({
      [ENV.config]: JSON.stringify({ ...base, snowflake: { ...base.snowflake, password: 'x' } }),
    });
    const config = applySecrets(settings.config, {
      postgres: { username: 'reader', password: 'p@ss', host: 'pg.internal', port: '6432', dbname: 'shop2' },
    });
    expect(config.postgres).toMatchObject({
      host: 'pg.internal',
      port: 6432,
      database: 'shop2',
      user: 'reader',
    });
    expect(config.postgres.password).toBe('p@ss');
  });

  it('names the missing field of a secret without showing any value', () => {
    const settings = loadRuntimeSettings({
      [ENV.config]: JSON.stringify({ ...base, snowflake: { ...base.snowflake, password: 'x' } }),
    });
    const err = thrown(() =>
      applySecrets(settings.config, { postgres: { username: 'reader', pass: 'hunter2-secret' } }),
    );
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err?.message).toContain('password');
    expect(err?.message).not.toContain('hunter2-secret');
  });

  it("takes the checkpoint key and the keys it replaced from the checkpoint secret, over the configuration's key file", () => {
    const settings = loadRuntimeSettings({
      [ENV.config]: JSON.stringify({
        ...base,
        snowflake: { ...base.snowflake, password: 'x' },
        audit: { checkpointKeyFile: 'checkpoint.key' },
      }),
      [ENV.checkpointSecretArn]:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/checkpoint-AbCdEf',
    });
    expect(settings.checkpointSecretArn).toMatch(/tally\/checkpoint/);
    const config = applySecrets(settings.config, {
      checkpoint: { key: 'k'.repeat(64), previousKeys: ['o'.repeat(40)] },
    });
    expect(config.audit).toMatchObject({
      checkpointKey: 'k'.repeat(64),
      previousCheckpointKeys: ['o'.repeat(40)],
    });
    expect(config.audit.checkpointKeyFile).toBeUndefined();
    expect(
      applySecrets(settings.config, { checkpoint: { key: 'n'.repeat(64) } }).audit.previousCheckpointKeys,
    ).toEqual([]);
  });

  it('refuses a checkpoint secret whose key is short or missing, without showing it', () => {
    const settings = loadRuntimeSettings({
      [ENV.config]: JSON.stringify({ ...base, snowflake: { ...base.snowflake, password: 'x' } }),
    });
    const short = thrown(() => applySecrets(settings.config, { checkpoint: { key: 'short-secret-key' } }));
    expect(short).toBeInstanceOf(InvalidConfigError);
    expect(short?.message).toMatch(/checkpoint key secret .*key.*at least 32 characters/);
    expect(short?.message).not.toContain('short-secret-key');
    const old = thrown(() =>
      applySecrets(settings.config, { checkpoint: { key: 'k'.repeat(32), previousKeys: ['old-secret'] } }),
    );
    expect(old?.message).toMatch(/previousKeys/);
    expect(old?.message).not.toContain('old-secret');
    expect(
      thrown(() => applySecrets(settings.config, { checkpoint: { password: 'p'.repeat(40) } }))?.message,
    ).toMatch(/checkpoint key secret .*key/);
  });

  it('refuses previousCheckpointKeys without a current key in the configuration', () => {
    const err = thrown(() =>
      loadRuntimeSettings({
        [ENV.config]: JSON.stringify({
          ...base,
          snowflake: { ...base.snowflake, password: 'x' },
          audit: { previousCheckpointKeys: ['o'.repeat(40)] },
        }),
      }),
    );
    expect(err?.message).toMatch(/previousCheckpointKeys needs the current key too/);
  });
});
