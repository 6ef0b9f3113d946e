// Chunks of a historical load: a large table is split into ranges of its primary key, each exported in a
// snapshot of its own, and all of them replace the target at once. The ranges are half-open and together
// cover every key, open at both ends, so a row inserted during the load below the smallest or above the
// largest key seen at planning time still falls in exactly one chunk.

/** One chunk: the rows whose key `k` satisfies `from <= k < to` (a null end is unbounded). */
export interface KeyRange {
  readonly from: string | null;
  readonly to: string | null;
}

/** A chunk as the Distributed Map hands it to its iteration: its position and its key range. */
export interface ChunkItem extends KeyRange {
  readonly index: number;
}

/** What a table's planning found: its key bounds and how many rows PostgreSQL estimates it holds. */
export interface KeyStats {
  /** The smallest and largest key, as decimal text; null for an empty table. */
  readonly min: string | null;
  readonly max: string | null;
  /** `pg_class.reltuples`; negative when the table was never vacuumed or analyzed. */
  readonly estimatedRows: number;
}

/** No table is split into more chunks than this: the Map's item file and the load stay bounded. */
export const MAX_CHUNKS = 10_000;

/**
 * How many chunks a table of `rows` rows needs so that none holds much more than `chunkRows`: 1 for a
 * table that fits one, at most MAX_CHUNKS.
 */
export function chunkCount(rows: number, chunkRows: number): number {
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) {
    throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
  }
  if (!(rows > chunkRows)) return 1;
  return Math.min(MAX_CHUNKS, Math.ceil(rows / chunkRows));
}

/**
 * The ranges of a single integer key between `min` and `max`, in equal steps of the key, about
 * `chunkRows` estimated rows each. A table PostgreSQL has no estimate for yet is taken to hold one row
 * per key value (an overestimate for a sparse key, which only makes more, smaller chunks). The first
 * range is open below and the last open above; one range means the whole table.
 */
export function integerKeyRanges(stats: KeyStats, chunkRows: number): KeyRange[] {
  if (stats.min === null || stats.max === null) return [{ from: null, to: null }];
  const min = BigInt(stats.min);
  const max = BigInt(stats.max);
  if (max < min) throw new RangeError(`key bounds out of order: min ${stats.min} > max ${stats.max}`);
  const span = max - min + 1n;
  const rows = stats.estimatedRows >= 0 ? stats.estimatedRows : Number(span);
  const wanted = BigInt(chunkCount(rows, chunkRows));
  const n = wanted > span ? span : wanted;
  if (n <= 1n) return [{ from: null, to: null }];
  const ranges: KeyRange[] = [];
  let from: string | null = null;
  for (let i = 1n; i < n; i++) {
    const to = (min + (span * i) / n).toString();
    ranges.push({ from, to });
    from = to;
  }
  ranges.push({ from, to: null });
  return ranges;
}

/** The items of the Distributed Map: each range with its index. */
export function chunkItems(ranges: readonly KeyRange[]): ChunkItem[] {
  return ranges.map((range, index) => ({ index, from: range.from, to: range.to }));
}

/**
 * Checks that ranges tile the whole key space in order: open below first, open above last, each range
 * starting where the one before ended and not empty. Integer bounds are compared as integers.
 */
export function checkTiling(ranges: readonly KeyRange[]): void {
  const first = ranges[0];
  const last = ranges[ranges.length - 1];
  if (!first || !last) throw new RangeError('a chunked load needs at least one range');
  if (first.from !== null) throw new RangeError(`the first range must be open below, got from ${first.from}`);
  if (last.to !== null) throw new RangeError(`the last range must be open above, got to ${last.to}`);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i] as KeyRange;
    if (i > 0 && r.from !== (ranges[i - 1] as KeyRange).to) {
      throw new RangeError(`range ${i} starts at ${r.from}, not where range ${i - 1} ended`);
    }
    if (r.from !== null && r.to !== null && BigInt(r.from) >= BigInt(r.to)) {
      throw new RangeError(`range ${i} is empty: [${r.from}, ${r.to})`);
    }
  }
}

/** A chunk's label in S3 keys and messages: `chunk-00003`. */
export function chunkLabel(index: number): string {
  return `chunk-${String(index).padStart(5, '0')}`;
}
