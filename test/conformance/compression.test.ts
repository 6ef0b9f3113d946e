// COMPRESSION of CREATE FILE FORMAT and COPY against Snowflake's documentation: "ZSTD" is one of the documented
// values for CSV, and AUTO detects it. The stand-in decompresses zstd with Node's zlib, which has it from Node
// 22.15; on an older Node it refuses such a file, saying why, instead of misreading it. COMPRESSION "describes
// how your data files are already compressed in the stage"; what Snowflake does with a file compressed
// otherwise is not documented, so the stand-in refuses it, naming the file, the COMPRESSION and the cause.
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_LOAD_PREPARE, FILE_FORMAT } from './docs';
import { copyFile, type Harness, startHarness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** `1,"a,b"` and `2,zstd`, as the zstd command line compresses them: one frame, one raw block. */
const ZSTD_FILE = Buffer.from('28b52ffd200f790000312c22612c62220a322c7a7374640a', 'hex');
const ROWS = [
  ['1', 'a,b'],
  ['2', 'zstd'],
];
const zstdInZlib = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
const columns = 'id number, v varchar';

describe('zstd-compressed CSV', () => {
  it(`loads a zstd file with COMPRESSION = ZSTD (named or in the COPY) and with AUTO where the stand-in's Node has zstd, and refuses it, naming the Node, where not (${FILE_FORMAT})`, async () => {
    // Before: the stand-in refused COMPRESSION = ZSTD in CREATE FILE FORMAT, a documented value.
    await h.run(
      `create or replace file format zstd_csv type = csv compression = zstd field_optionally_enclosed_by = '"'`,
    );
    for (const format of [
      "format_name = 'zstd_csv'",
      `type = csv compression = zstd field_optionally_enclosed_by = '"'`,
      `type = csv compression = auto field_optionally_enclosed_by = '"'`,
    ]) {
      const load = copyFile(h, { columns, format, file: ZSTD_FILE });
      if (zstdInZlib) {
        await expect(load, format).resolves.toEqual(ROWS);
      } else {
        await expect(load, format).rejects.toMatchObject({
          code: '000002',
          message: expect.stringMatching(/zstd-compressed files on Node\.js v\d+.*from Node 22\.15/),
        });
      }
    }
  });

  /** The refusal of a file whose bytes are not what its COMPRESSION names. */
  const mismatch = (named: string, cause: RegExp) => ({
    code: '000002',
    message: expect.stringMatching(
      new RegExp(
        `not supported by the local Snowflake stand-in: the file 's3://[^']+/copy/\\d+\\.csv' does not decompress as ${named} says: ${cause.source}; what Snowflake answers to a file compressed otherwise than its COMPRESSION describes is not documented`,
      ),
    ),
  });

  it(`refuses a zstd file read as GZIP, naming the file, the COMPRESSION and what its bytes are (${DATA_LOAD_PREPARE})`, async () => {
    // Before: zlib's "incorrect header check" surfaced as an internal error (000603).
    const load = copyFile(h, { columns, format: 'type = csv compression = gzip', file: ZSTD_FILE });
    await expect(load).rejects.toMatchObject(
      mismatch('COMPRESSION = GZIP', /its first bytes are those of ZSTD/),
    );
  });

  it(`refuses a gzip file read as ZSTD, and a plain file read as GZIP, rather than loading garbage (${DATA_LOAD_PREPARE})`, async () => {
    await expect(
      copyFile(h, { columns, format: 'type = csv compression = zstd', file: zlib.gzipSync('1,x\n') }),
    ).rejects.toMatchObject(mismatch('COMPRESSION = ZSTD', /its first bytes are those of GZIP/));
    await expect(
      copyFile(h, { columns, format: 'type = csv compression = gzip', file: '1,x\n' }),
    ).rejects.toMatchObject(
      mismatch('COMPRESSION = GZIP', /its first bytes \(312c780a\) are not a GZIP header/),
    );
  });

  it(`refuses a file that opens as its COMPRESSION says and then breaks off, naming the decompressor's error (${DATA_LOAD_PREPARE})`, async () => {
    const whole = zlib.gzipSync('1,x\n2,y\n');
    for (const format of ['type = csv compression = gzip', 'type = csv compression = auto']) {
      const named = format.endsWith('gzip') ? 'COMPRESSION = GZIP' : 'GZIP \\(COMPRESSION = AUTO\\)';
      await expect(
        copyFile(h, { columns, format, file: whole.subarray(0, whole.length - 6) }),
        format,
      ).rejects.toMatchObject(mismatch(named, /the decompressor failed \(unexpected end of file\)/));
    }
  });

  it(`refuses a file with no mark of its codec that does not decompress as BROTLI (${DATA_LOAD_PREPARE})`, async () => {
    await expect(
      copyFile(h, { columns, format: 'type = csv compression = brotli', file: ZSTD_FILE }),
    ).rejects.toMatchObject(mismatch('COMPRESSION = BROTLI', /the decompressor failed \(.+\)/));
  });
});
