import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partKey, partPrefix, RecordScanner } from '../../../lambdas/adapters/csv-parts';

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

describe('RecordScanner', () => {
  it('counts every record however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(records, fc.array(fc.nat(), { maxLength: 10 }), (rows, offsets) => {
        const bytes = Buffer.from(rows.map((r) => `${r.map(csvField).join(',')}\n`).join(''));
        const scanner = new RecordScanner();
        const total = cut(bytes, offsets).reduce((n, chunk) => n + scanner.scan(chunk, 0, false).records, 0);
        expect(total).toBe(rows.length);
      }),
    );
  });

  it('stops exactly after each record, even when quoted fields hold newlines', () => {
    fc.assert(
      fc.property(records, (rows) => {
        const lines = rows.map((r) => `${r.map(csvField).join(',')}\n`);
        const bytes = Buffer.from(lines.join(''));
        const scanner = new RecordScanner();
        const ends: number[] = [];
        let offset = 0;
        for (;;) {
          const { records: n, end } = scanner.scan(bytes, offset, true);
          if (n === 0) break;
          ends.push(end);
          offset = end;
        }
        let sum = 0;
        expect(ends).toEqual(lines.map((l) => (sum += Buffer.byteLength(l))));
      }),
    );
  });
});

describe('part keys', () => {
  it('numbers parts with a fixed width under the prefix, ignoring a trailing slash', () => {
    expect(partKey('job/orders/w1', 0)).toBe('job/orders/w1/part-00000.csv.gz');
    expect(partKey('job/orders/w1/', 12)).toBe('job/orders/w1/part-00012.csv.gz');
    expect(partPrefix('job/orders/w1/')).toBe('job/orders/w1/part-');
  });
});
