// Configuration files: a good one loads with its defaults filled in, a bad one fails with a message that
// names the file and the wrong setting.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, writeConfigFile } from '../../../lambdas/config-file';
import { InvalidConfigError } from '../../../lambdas/domain/errors';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-config-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const valid = () => ({
  tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
  postgres: { url: 'postgres://tally:secret@127.0.0.1:5432/shop' },
  s3: { bucket: 'tally-bucket', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
  snowflake: { account: 'acme', username: 'TALLY', password: 'pw', database: 'ANALYTICS' },
});

async function fileWith(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function failure(path: string): Promise<InvalidConfigError> {
  const err = await loadConfigFile(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidConfigError);
  return err as InvalidConfigError;
}

describe('loadConfigFile', () => {
  it('loads a valid file and fills in the defaults', async () => {
    const config = await loadConfigFile(await fileWith('valid.json', valid()));
    expect(config.tables[0]).toEqual({
      schema: 'public',
      name: 'orders',
      primaryKey: ['id'],
      cursorColumn: 'updated_at',
    });
    expect(config.snowflake.schema).toBe('PUBLIC');
    expect(config.pipeline.compression).toBeUndefined();
  });

  it('names the missing file', async () => {
    const err = await failure(join(dir, 'nowhere.json'));
    expect(err.message).toContain('nowhere.json does not exist');
  });

  it('says when the file is not JSON', async () => {
    const err = await failure(await fileWith('broken.json', '{ "tables": [ '));
    expect(err.message).toMatch(/broken\.json is not valid JSON/);
  });

  it('names a setting of the wrong type, with its path', async () => {
    const config = valid();
    const bad = { ...config, postgres: { ...config.postgres, port: '5432' } };
    const err = await failure(await fileWith('port.json', bad));
    expect(err.message).toContain('port.json');
    expect(err.message).toContain('postgres.port');
  });

  it('names a missing required setting', async () => {
    const { database: _omitted, ...snowflake } = valid().snowflake;
    const err = await failure(await fileWith('nodb.json', { ...valid(), snowflake }));
    expect(err.message).toContain('snowflake.database');
  });

  it('names a misspelt setting', async () => {
    const config = valid();
    const err = await failure(await fileWith('typo.json', { ...config, s3: { ...config.s3, buckt: 'x' } }));
    expect(err.message).toContain('buckt');
  });

  it('names a table listed twice', async () => {
    const config = valid();
    const err = await failure(
      await fileWith('twice.json', { ...config, tables: [...config.tables, ...config.tables] }),
    );
    expect(err.message).toContain('public.orders is listed twice');
  });

  it('finds a key file named relative to the configuration file', async () => {
    const config = valid();
    const path = await fileWith('keyfile.json', {
      ...config,
      snowflake: { ...config.snowflake, password: undefined, privateKeyFile: 'keys/tally.p8' },
    });
    expect((await loadConfigFile(path)).snowflake.privateKeyFile).toBe(join(dir, 'keys', 'tally.p8'));
  });
});

describe('writeConfigFile', () => {
  it('writes a file that loads back to the same configuration', async () => {
    const original = await loadConfigFile(await fileWith('source.json', valid()));
    const path = join(dir, 'written.json');
    await writeConfigFile(path, original);
    expect(await loadConfigFile(path)).toEqual(original);
  });
});
