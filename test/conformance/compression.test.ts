// COMPRESSION = ZSTD of CREATE FILE FORMAT and COPY against Snowflake's documentation: "ZSTD" is one of the
// documented values for CSV, and AUTO detects it. The stand-in decompresses zstd with Node's zlib, which
// has it from Node 22.15; on an older Node it refuses such a file, saying why, instead of misreading it.
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_FORMAT } from './docs';
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

  it(`refuses a gzip file read as ZSTD rather than loading garbage (${FILE_FORMAT})`, async () => {
    const load = copyFile(h, {
      columns,
      format: 'type = csv compression = zstd',
      file: zlib.gzipSync('1,x\n'),
    });
    await expect(load).rejects.toThrow();
  });
});
