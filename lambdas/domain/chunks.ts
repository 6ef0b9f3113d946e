// Chunks of a historical load: a large table is split into ranges of the leading column of its primary
// key, each exported in a snapshot of its own, and all of them replace the target at once. The ranges are
// half-open and together cover every key, open at both ends, so a row inserted during the load below the
// smallest or above the largest key seen at planning time still falls in exactly one chunk. The split
// values come from PostgreSQL's own statistics of the column (`pg_stats`), in the column's own order, so
// nothing scans the table to plan it and every comparison is PostgreSQL's, with the column's collation.

/** One chunk: the rows whose leading key column `k` satisfies `from <= k < to` (a null end is unbounded). */
export interface KeyRange {
  readonly from: string | null;
  readonly to: string | null;
}

/** A chunk as the Distributed Map hands it to its iteration: its position and its key range. */
export interface ChunkItem extends KeyRange {
  readonly index: number;
}

/**
 * One value of the key column from its statistics, with the share of the table's rows estimated to hold
 * it or a value up to the next point: a histogram bound carries its bucket, a most common value its own
 * frequency.
 */
export interface KeyPoint {
  /** The value as PostgreSQL's text, which casts back to the column's type. */
  readonly value: string;
  readonly share: number;
}

/** What a table's planning found: the split points of its leading key column and its estimated rows. */
export type KeyStats =
  | {
      readonly kind: 'stats';
      /** The leading primary-key column the ranges bound. */
      readonly column: string;
      /** `pg_class.reltuples`. */
      readonly estimatedRows: number;
      /** Distinct values of the column in its own order (PostgreSQL's, with its collation). */
      readonly points: readonly KeyPoint[];
    }
  | {
      /** The table loads in one piece: why, and what would let it be split. */
      readonly kind: 'none';
      readonly reason: string;
    };

/** No table is split into more chunks than this: the Map's item file and the load stay bounded. */
export const MAX_CHUNKS = 10_000;

/** The longest bound a chunk carries: ANALYZE leaves values wider than 1024 bytes out of its statistics. */
export const MAX_BOUND_LENGTH = 4096;

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
 * The ranges of a table whose statistics give `points`: as many as `chunkCount` asks for, split at the
 * points where the estimated share of rows below reaches each next fraction of the whole. Split values are
 * points themselves, taken in the order given (the column's), each at most once, so no range is empty by
 * the statistics; the first range is open below and the last open above; one range means the whole table.
 */
export function keyRanges(stats: KeyStats, chunkRows: number): KeyRange[] {
  if (stats.kind === 'none' || stats.points.length < 2) return [{ from: null, to: null }];
  const wanted = chunkCount(stats.estimatedRows, chunkRows);
  if (wanted <= 1) return [{ from: null, to: null }];
  const shares = stats.points.map((p) => (Number.isFinite(p.share) && p.share > 0 ? p.share : 0));
  const total = shares.reduce((n, s) => n + s, 0);
  // Statistics with no mass (all shares 0) still order the values: split them evenly by count.
  const weights = total > 0 ? shares : shares.map(() => 1);
  const sum = total > 0 ? total : weights.length;
  // Shares added up drift by a rounding error or so: a fraction reached within it counts as reached.
  const reached = (below: number, n: number) => below >= (sum * n) / wanted - sum * 1e-9;
  const splits: string[] = [];
  let below = 0;
  let next = 1;
  for (let i = 0; i < stats.points.length && next < wanted; i++) {
    // Splitting at point 0 would make a first range of only the rows below every value seen.
    if (i > 0 && reached(below, next)) {
      const value = (stats.points[i] as KeyPoint).value;
      if (splits[splits.length - 1] !== value) splits.push(value);
      while (next < wanted && reached(below, next)) next++;
    }
    below += weights[i] as number;
  }
  if (splits.length === 0) return [{ from: null, to: null }];
  const ranges: KeyRange[] = [];
  let from: string | null = null;
  for (const to of splits) {
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
 * starting where the one before ended and not empty. `compare` orders two bounds as the column does
 * (PostgreSQL's order); without it a range is only refused when it starts and ends on the same value.
 */
export function checkTiling(ranges: readonly KeyRange[], compare?: (a: string, b: string) => number): void {
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
    if (r.from !== null && r.to !== null && (r.from === r.to || (compare && compare(r.from, r.to) >= 0))) {
      throw new RangeError(`range ${i} is empty: [${r.from}, ${r.to})`);
    }
  }
}

/** A chunk's label in S3 keys and messages: `chunk-00003`. */
export function chunkLabel(index: number): string {
  return `chunk-${String(index).padStart(5, '0')}`;
}
