// The bisection of value reconciliation, over two in-memory sides that compute segment sums as the
// databases do: equal sides compare at one level, and every changed, missing or extra key is found with
// its columns, however the differences fall.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFields, encodeFields } from '../../../lambdas/domain/canonical';
import { type DigestSide, isEqual, reconcile, sampleSegments } from '../../../lambdas/domain/reconcile';

type Table = ReadonlyMap<string, readonly (string | null)[]>;
const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const COLUMNS = ['id', 'a', 'b'];

function side(table: Table): DigestSide {
  const rows = [...table].map(([id, values]) => {
    const key = encodeFields([id]);
    const fields = [id, ...values];
    return { key, segment: md5(key), text: encodeFields(fields), fields };
  });
  const inside = (segment: string, within: readonly string[] | null) =>
    within === null || within.some((w) => segment.startsWith(w));
  return {
    async segments({ digits, within }) {
      const sums = new Map<string, { rows: number; sum: bigint }>();
      for (const r of rows.filter((row) => inside(row.segment, within))) {
        const s = r.segment.slice(0, digits);
        const acc = sums.get(s) ?? { rows: 0, sum: 0n };
        sums.set(s, { rows: acc.rows + 1, sum: acc.sum + BigInt(`0x${md5(r.text).slice(0, 15)}`) });
      }
      return [...sums].map(([segment, v]) => ({ segment, rows: v.rows, sum: v.sum.toString() }));
    },
    async rows({ segments }) {
      return rows
        .filter((r) => inside(r.segment, segments))
        .map((r) => ({ key: r.key, row: md5(r.text), columns: r.fields.map((f) => md5(encodeFields([f]))) }));
    },
  };
}

function table(n: number): Map<string, (string | null)[]> {
  return new Map(Array.from({ length: n }, (_, i) => [String(i), [`v${i}`, i % 3 === 0 ? null : '']]));
}

describe('reconcile', () => {
  it('compares equal sides at one level', async () => {
    const t = table(500);
    const result = await reconcile(side(t), side(t), { columns: COLUMNS });
    expect(isEqual(result)).toBe(true);
    expect(result.levels).toBe(1);
    expect(result.sourceRows).toBe(500);
  });

  it('tells NULL from an empty text', async () => {
    const a = table(10);
    const b = table(10);
    b.set('1', ['v1', null]);
    const result = await reconcile(side(a), side(b), { columns: COLUMNS });
    expect(result.differing).toEqual([{ key: ['1'], columns: ['b'] }]);
  });

  it('finds every changed, missing and extra key with its columns, wherever they fall', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.uniqueArray(fc.nat(399), { maxLength: 30 }),
        fc.integer({ min: 1, max: 16 }),
        async (n, touched, leafRows) => {
          const a = table(n);
          const b = table(n);
          const missing: string[] = [];
          const changed: string[] = [];
          for (const [i, k] of touched.filter((k) => k < n).entries()) {
            const id = String(k);
            if (i % 3 === 0) {
              b.delete(id);
              missing.push(id);
            } else {
              b.set(id, ['changed', b.get(id)?.[1] ?? null]);
              changed.push(id);
            }
          }
          b.set('extra', ['x', 'y']);
          const result = await reconcile(side(a), side(b), {
            columns: COLUMNS,
            leafRows,
            maxSegments: 10_000,
          });
          expect(result.missing.map((k) => k[0]).sort()).toEqual(missing.sort());
          expect(result.extra).toEqual([['extra']]);
          expect(result.differing.map((d) => d.key[0]).sort()).toEqual(changed.sort());
          expect(result.differing.every((d) => d.columns.join() === 'a')).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('compares only the sampled segments', async () => {
    const a = table(300);
    const b = table(300);
    for (let i = 0; i < 300; i++) b.set(String(i), ['changed', null]);
    const sample = sampleSegments('job-1', 1 / 16);
    expect(sample).toHaveLength(16);
    const result = await reconcile(side(a), side(b), { columns: COLUMNS, sample });
    expect(result.sampled).toBe(true);
    expect(result.differing.length).toBeGreaterThan(0);
    expect(result.differing.length).toBeLessThan(100);
    for (const d of result.differing) {
      expect(sample.some((s) => md5(encodeFields(d.key)).startsWith(s))).toBe(true);
    }
  });
});

describe('the canonical row text', () => {
  it('decodes to the fields it was made of, whatever they hold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.string({ unit: fc.constantFrom('a', '~', '|', 'n', 'p', ' ') }))),
        (fields) => {
          const values = fields.length === 0 ? [''] : fields;
          expect(decodeFields(encodeFields(values))).toEqual(values);
        },
      ),
    );
  });
});
