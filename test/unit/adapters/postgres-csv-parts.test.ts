import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zstdAvailable } from '../../../lambdas/adapters/compression';
import { OffsetQueue } from '../../../lambdas/adapters/postgres/copy-rows';
import { partKey, partPrefix, writeCsvParts } from '../../../lambdas/adapters/postgres/csv-parts';
import { InvalidConfigError } from '../../../lambdas/domain/errors';
import type { Tagged } from '../../../lambdas/ports';

/** A CSV field as PostgreSQL writes it: quoted when it holds a quote, comma, newline or CR. */
function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const field = fc.string({ unit: fc.constantFrom('a', 'é', '"', ',', '\n', '\r', '\\', ' ', '😀') });
const records = fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 20 });

/** Cuts bytes into chunks at the given offsets (sorted, deduplicated). */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  return chunks;
}

/** zlib's zstd, which @types/node of Node 20 does not declare. */
const zstdSync = zlib as unknown as { zstdDecompressSync: (data: Buffer) => Buffer };

/** A stage that keeps each upload, decompressed as its content type says, in memory. */
class MemoryStage {
  readonly bucket = 'memory';
  readonly objects = new Map<string, Buffer>();
  readonly contentTypes = new Map<string, string | undefined>();
  async upload(key: string, body: Readable, contentType?: string) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const packed = Buffer.concat(chunks);
    this.contentTypes.set(key, contentType);
    this.objects.set(
      key,
      contentType === 'application/zstd' ? zstdSync.zstdDecompressSync(packed) : zlib.gunzipSync(packed),
    );
    return { key, bytes: packed.length };
  }
  async putJson() {}
  async keepJson() {
    return 'written' as const;
  }
  async getJson<T>(): Promise<T | null> {
    return null;
  }
  async getJsonTagged<T>(): Promise<Tagged<T> | null> {
    return null;
  }
  async putJsonIf() {
    return 'conflict' as const;
  }
  async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix));
  }
  async delete(keys: readonly string[]) {
    for (const key of keys) this.objects.delete(key);
  }
}

/** Feeds `chunks` one at a time, telling `ends` about each record end just before its bytes are read. */
async function* framed(chunks: Buffer[], recordEnds: number[], ends: OffsetQueue): AsyncGenerator<Buffer> {
  let position = 0;
  let next = 0;
  for (const chunk of chunks) {
    position += chunk.length;
    while (next < recordEnds.length && (recordEnds[next] as number) <= position)
      ends.add(recordEnds[next++] as number);
    yield chunk;
  }
}

describe('writeCsvParts', () => {
  it('cuts parts only at record ends, each starting with the header, however the stream is chunked', async () => {
    let split = 0;
    await fc.assert(
      fc.asyncProperty(
        records,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom(0, 1e9),
        async (rows, offsets, limit) => {
          const lines = ['id,value\n', ...rows.map((r) => `${r.map(csvField).join(',')}\n`)];
          const bytes = Buffer.from(lines.join(''));
          let sum = 0;
          const recordEnds = lines.map((l) => (sum += Buffer.byteLength(l)));
          const ends = new OffsetQueue();
          const stage = new MemoryStage();
          const files = await writeCsvParts(framed(cut(bytes, offsets), recordEnds, ends), ends, stage, {
            keyPrefix: 'job/t',
            maxFileBytes: limit,
            compression: { codec: 'gzip', level: 1 },
          });
          const header = lines[0] as string;
          const bodies = files.map((f) => {
            const text = stage.objects.get(f.key)?.toString() ?? '';
            expect(text.startsWith(header)).toBe(true);
            return text.slice(header.length);
          });
          // Each part holds whole records only: its body is exactly a run of the input's lines.
          let line = 1;
          files.forEach((f, i) => {
            expect(bodies[i]).toBe(lines.slice(line, line + f.rows).join(''));
            line += f.rows;
          });
          expect(line).toBe(lines.length);
          if (files.length > 1) split++;
          expect(files.map((f) => f.key)).toEqual(files.map((_, i) => partKey('job/t', i)));
        },
      ),
      { numRuns: 200 },
    );
    // gzip holds small inputs back until the end, so only a limit of 0 (one record a part) splits
    // here; the integration tests cut parts of real size.
    expect(split).toBeGreaterThan(20);
  });

  it('refuses a stream that ends inside a record, and leaves no part behind', async () => {
    const bytes = Buffer.from('id,value\n1,"open\n');
    const ends = new OffsetQueue();
    const stage = new MemoryStage();
    await expect(
      writeCsvParts(framed([bytes], [9], ends), ends, stage, {
        keyPrefix: 'job/t',
        maxFileBytes: 1e6,
        compression: { codec: 'gzip', level: 1 },
      }),
    ).rejects.toThrow(/ended inside a record, at byte 17/);
    expect(stage.objects.size).toBe(0);
  });

  it('refuses a stream without a header line', async () => {
    const ends = new OffsetQueue();
    await expect(
      writeCsvParts(framed([], [], ends), ends, new MemoryStage(), {
        keyPrefix: 'job/t',
        maxFileBytes: 1e6,
        compression: { codec: 'gzip', level: 1 },
      }),
    ).rejects.toThrow(/without a header line/);
  });
});

describe('part keys', () => {
  it('numbers parts with a fixed width under the prefix, ignoring a trailing slash', () => {
    expect(partKey('job/orders/w1', 0)).toBe('job/orders/w1/part-00000.csv.gz');
    expect(partKey('job/orders/w1/', 12)).toBe('job/orders/w1/part-00012.csv.gz');
    expect(partPrefix('job/orders/w1/')).toBe('job/orders/w1/part-');
  });

  it("ends each key in its codec's extension", () => {
    expect(partKey('job/orders/w1', 3, 'gzip')).toBe('job/orders/w1/part-00003.csv.gz');
    expect(partKey('job/orders/w1', 3, 'zstd')).toBe('job/orders/w1/part-00003.csv.zst');
  });
});

/** One export of `lines` (header first) with `codec`, into one part. */
async function exportLines(lines: string[], codec: 'gzip' | 'zstd', stage: MemoryStage) {
  const bytes = Buffer.from(lines.join(''));
  let sum = 0;
  const recordEnds = lines.map((l) => (sum += Buffer.byteLength(l)));
  const ends = new OffsetQueue();
  return writeCsvParts(framed([bytes], recordEnds, ends), ends, stage, {
    keyPrefix: 'job/z',
    maxFileBytes: 1e9,
    compression: { codec, level: 3 },
  });
}

// zstd is in zlib from Node 22.15: the Node 24 tier (npm run test:node24, the Lambda runtime's major) writes
// and reads it back; an older Node must refuse it by the setting's name, before anything is written.
describe('zstd parts', () => {
  const major = Number(process.versions.node.split('.')[0]);

  it('is available on the Lambda runtime’s Node 24, and not on Node 20', () => {
    if (major >= 24) expect(zstdAvailable()).toBe(true);
    if (major <= 20) expect(zstdAvailable()).toBe(false);
  });

  it('writes zstd parts with their extension and content type where Node has zstd, and refuses them by the setting’s name where it has not', async () => {
    const lines = ['id,value\n', '1,"a,b"\n', '2,"multi\nline"\n', '3,😀\n'];
    const stage = new MemoryStage();
    await stage.upload(
      'job/z/part-00009.csv.gz',
      (async function* () {
        yield zlib.gzipSync('stale');
      })() as unknown as Readable,
    );
    if (zstdAvailable()) {
      const files = await exportLines(lines, 'zstd', stage);
      expect(files.map((f) => [f.key, f.rows, stage.contentTypes.get(f.key)])).toEqual([
        ['job/z/part-00000.csv.zst', 3, 'application/zstd'],
      ]);
      expect(stage.objects.get('job/z/part-00000.csv.zst')?.toString()).toBe(lines.join(''));
      // A gzip part an earlier attempt left is gone: a part's extension does not hide it from the clean-up.
      expect([...stage.objects.keys()].sort()).toEqual(files.map((f) => f.key));
    } else {
      const err = await exportLines(lines, 'zstd', stage).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as Error).message).toMatch(
        /^pipeline\.compression\.codec is "zstd", but this Node\.js \(v\d+[^)]*\) has no zstd/,
      );
      expect([...stage.objects.keys()]).toEqual(['job/z/part-00009.csv.gz']);
    }
  });

  it('writes gzip parts as application/gzip', async () => {
    const stage = new MemoryStage();
    const files = await exportLines(['id\n', '1\n'], 'gzip', stage);
    expect(files.map((f) => [f.key, stage.contentTypes.get(f.key)])).toEqual([
      ['job/z/part-00000.csv.gz', 'application/gzip'],
    ]);
  });
});
