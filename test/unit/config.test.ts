import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config';
import { resolveCompression } from '../../lambdas/domain/compression';
import { InvalidConfigError } from '../../lambdas/domain/errors';

const valid = {
  tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
  postgres: { url: 'postgres://u:p@127.0.0.1:5432/db' },
  s3: { bucket: 'tally-bucket' },
  snowflake: { account: 'acct', username: 'svc', privateKeyFile: 'key.p8', database: 'ANALYTICS' },
};

function errorOf(value: unknown): Error {
  try {
    parseConfig(value);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('fills documented defaults', () => {
    const config = parseConfig(valid);
    expect(config.tables[0]).toMatchObject({ schema: 'public', primaryKey: ['id'] });
    expect(config.pipeline).toMatchObject({
      lookbackSeconds: 300,
      maxFileBytes: 128 * 1024 * 1024,
    });
    // Unset: the exporting runtime picks its default (resolveCompression).
    expect(config.pipeline.compression).toBeUndefined();
    expect(config.snowflake).toMatchObject({
      schema: 'PUBLIC',
      stage: 'TALLY_STAGE',
      auditTable: 'TALLY_AUDIT_LOG',
    });
  });

  it('names the setting that is missing', () => {
    const err = errorOf({ ...valid, s3: {} });
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(err.message).toMatch(/s3\.bucket/);
  });

  it('names a table setting that is not an identifier', () => {
    const err = errorOf({
      ...valid,
      tables: [{ name: 'x"; drop table y; --', primaryKey: 'id', cursorColumn: 'u' }],
    });
    expect(err.message).toMatch(/tables\.0\.name: must be a plain identifier/);
  });

  it("takes a table's deletes mode and check cadence, and names a wrong one", () => {
    const table = { name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' };
    const config = parseConfig({
      ...valid,
      tables: [{ ...table, deletes: 'soft', deleteCheckEvery: 'PT6H' }],
    });
    expect(config.tables[0]).toMatchObject({ deletes: 'soft', deleteCheckEvery: 'PT6H' });
    expect(parseConfig(valid).tables[0]?.deletes).toBeUndefined();
    const mode = errorOf({ ...valid, tables: [{ ...table, deletes: 'remove' }] });
    expect(mode.message).toMatch(/^invalid configuration: tables\.0\.deletes: .*"propagate"/);
    const months = errorOf({ ...valid, tables: [{ ...table, deletes: 'report', deleteCheckEvery: 'P1M' }] });
    expect(months).toBeInstanceOf(InvalidConfigError);
    expect(months.message).toContain("tables.0.deleteCheckEvery: 'P1M' has years or months");
    const daily = errorOf({ ...valid, tables: [{ ...table, deleteCheckEvery: 'daily' }] });
    expect(daily.message).toContain("tables.0.deleteCheckEvery: 'daily' is not an ISO 8601 duration");
  });

  it('refuses an unknown setting instead of ignoring it', () => {
    expect(errorOf({ ...valid, pipeline: { lookbak: 5 } }).message).toMatch(/pipeline/);
  });

  it('refuses Snowflake without any credential', () => {
    const { privateKeyFile: _drop, ...snowflake } = valid.snowflake;
    expect(errorOf({ ...valid, snowflake }).message).toMatch(
      /snowflake: set password, privateKey or privateKeyFile/,
    );
  });

  it('refuses a table listed twice', () => {
    expect(errorOf({ ...valid, tables: [valid.tables[0], valid.tables[0]] }).message).toMatch(
      /public\.orders is listed twice/,
    );
  });

  it('refuses two tables that would load into the same Snowflake table, until one has a targetName', () => {
    const sales = { ...valid.tables[0], schema: 'sales' };
    expect(errorOf({ ...valid, tables: [valid.tables[0], sales] }).message).toMatch(
      /public\.orders and sales\.orders would both load into ORDERS; give one a targetName/,
    );
    const renamed = parseConfig({
      ...valid,
      tables: [valid.tables[0], { ...sales, targetName: 'SALES_ORDERS' }],
    });
    expect(renamed.tables).toHaveLength(2);
  });

  describe('pipeline.compression', () => {
    it('defaults to zstd level 1 where the runtime has zstd and to gzip level 6 where not, and keeps a setting as given', () => {
      expect(resolveCompression(undefined, true)).toEqual({ codec: 'zstd', level: 1 });
      expect(resolveCompression(undefined, false)).toEqual({ codec: 'gzip', level: 6 });
      expect(resolveCompression({ codec: 'zstd', level: 5 }, false)).toEqual({ codec: 'zstd', level: 5 });
      expect(resolveCompression({ codec: 'gzip', level: 2 }, true)).toEqual({ codec: 'gzip', level: 2 });
    });

    const pipeline = (p: unknown) => parseConfig({ ...valid, pipeline: p }).pipeline.compression;

    it("takes a codec and level, the level defaulting to the codec's own", () => {
      expect(pipeline({ compression: { codec: 'zstd', level: 1 } })).toEqual({ codec: 'zstd', level: 1 });
      expect(pipeline({ compression: { codec: 'zstd' } })).toEqual({ codec: 'zstd', level: 3 });
      expect(pipeline({ compression: { codec: 'gzip' } })).toEqual({ codec: 'gzip', level: 6 });
    });

    it('still reads the older gzipLevel as a gzip codec of that level', () => {
      expect(pipeline({ gzipLevel: 2 })).toEqual({ codec: 'gzip', level: 2 });
    });

    it('refuses gzipLevel together with compression, saying which to keep', () => {
      const err = errorOf({ ...valid, pipeline: { gzipLevel: 2, compression: { codec: 'gzip', level: 1 } } });
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect(err.message).toMatch(
        /pipeline\.gzipLevel: set either gzipLevel \(the older form\) or compression, not both/,
      );
    });

    it("refuses a level outside the codec's range and an unknown codec, naming the setting", () => {
      expect(errorOf({ ...valid, pipeline: { compression: { codec: 'gzip', level: 12 } } }).message).toMatch(
        /pipeline\.compression\.level: gzip levels run from 1 to 9/,
      );
      expect(errorOf({ ...valid, pipeline: { compression: { codec: 'zstd', level: 20 } } }).message).toMatch(
        /pipeline\.compression\.level: zstd levels run from 1 to 19/,
      );
      expect(errorOf({ ...valid, pipeline: { compression: { codec: 'brotli' } } }).message).toMatch(
        /pipeline\.compression\.codec: /,
      );
      expect(errorOf({ ...valid, pipeline: { gzipLevel: 0 } }).message).toMatch(/pipeline\.gzipLevel: /);
    });

    it('parses its own output again to the same settings, as a Lambda reads the bundled configuration', () => {
      const once = parseConfig({ ...valid, pipeline: { gzipLevel: 4 } });
      expect(parseConfig(JSON.parse(JSON.stringify(once))).pipeline).toEqual(once.pipeline);
    });
  });
});
