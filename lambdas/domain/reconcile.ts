// Value-level reconciliation: a table's (or a window's) rows compared between the source and the target
// by checksums computed inside each database, so that only per-segment sums cross the wire until the
// differing keys are found. Each row is written in one canonical text per type, identical on both sides
// (`canonical.ts` says which, the adapters write it in each dialect); the MD5 of the key's canonical text
// places the row in a segment (a prefix of its hex digits), and the MD5 of the whole row's text gives the
// 60-bit number the segment sums. A segment whose count or sum differs is split into its 16 children
// (one more hex digit) until it is small enough to compare row by row, by key and one digest per column.
import { decodeFields } from './canonical';

/** One segment's checksum as a database computes it. */
export interface SegmentSum {
  /** The segment: the first hex digits of the MD5 of the rows' canonical key text. */
  readonly segment: string;
  readonly rows: number;
  /** The sum of the rows' 60-bit row hashes, as decimal text (it passes 2^53). */
  readonly sum: string;
}

/** One row of a segment small enough to compare row by row: its key and digests, never its values. */
export interface RowDigest {
  /** The canonical text of the primary key (`encodeFields` of the key columns). */
  readonly key: string;
  /** MD5 of the canonical text of the whole row. */
  readonly row: string;
  /** MD5 of each compared column's canonical field, in the order the request named the columns. */
  readonly columns: readonly string[];
}

export interface SegmentRequest {
  /** The source columns the row text covers, in order; the primary key's columns among them. */
  readonly columns: readonly string[];
  /** How many hex digits name a segment (1 to 32). */
  readonly digits: number;
  /** Only the rows in these segments (prefixes one digit shorter, or any shorter); all rows when null. */
  readonly within: readonly string[] | null;
}

export interface RowRequest {
  readonly columns: readonly string[];
  /** The segments whose rows are wanted. */
  readonly segments: readonly string[];
}

/** One side of the comparison: the source or the target, over the same table and slice. */
export interface DigestSide {
  segments(request: SegmentRequest): Promise<SegmentSum[]>;
  rows(request: RowRequest): Promise<RowDigest[]>;
}

export interface ReconcileOptions {
  /** The columns compared, in order (source names). */
  readonly columns: readonly string[];
  /** Segments of the first level: hex digits of the key hash. @default 2 (256 segments) */
  readonly firstDigits?: number;
  /** A segment with at most this many rows on each side is compared row by row. @default 64 */
  readonly leafRows?: number;
  /** At most this many differing segments are split at each level; the rest are reported as such. @default 64 */
  readonly maxSegments?: number;
  /** At most this many keys are named; the result says when more differ. @default 1000 */
  readonly maxKeys?: number;
  /** Compare only the rows of these segments (a sample); all rows when absent. */
  readonly sample?: readonly string[];
  readonly onProgress?: (message: string) => void;
}

export interface DifferingRow {
  readonly key: readonly (string | null)[];
  readonly columns: readonly string[];
}

export interface ReconcileResult {
  /** Segment checksums computed on each side, over every level. */
  readonly segments: number;
  /** Segment checksums compared (each pair once). */
  readonly checksumsCompared: number;
  readonly levels: number;
  /** Rows each side holds in what was compared (the whole slice, or the sample). */
  readonly sourceRows: number;
  readonly targetRows: number;
  /** Keys the source holds and the target lacks. */
  readonly missing: readonly (readonly (string | null)[])[];
  /** Keys the target holds and the source lacks. */
  readonly extra: readonly (readonly (string | null)[])[];
  readonly differing: readonly DifferingRow[];
  /** More differed than were named: segments left unsplit or keys past `maxKeys`. */
  readonly truncated: boolean;
  /** Segments that differ but were not split (past `maxSegments`), to look at again. */
  readonly unsplit: readonly string[];
  readonly sampled: boolean;
}

export const HEX_DIGITS = 32;
/** The row hash is this many leading hex digits of the row's MD5: 60 bits, far inside NUMBER(38,0). */
export const ROW_HASH_HEX_DIGITS = 15;

const HEX = /^[0-9a-f]*$/;

/** A segment name as the SQL builders accept it: lower-case hex, at most 32 digits. */
export function checkSegment(segment: string): string {
  if (!HEX.test(segment) || segment.length > HEX_DIGITS) {
    throw new Error(`segment '${segment}' is not a prefix of an MD5 hex digest`);
  }
  return segment;
}

/** The rows whose key MD5 starts with one of `segments` (all rows when null), as SQL both dialects take. */
export function segmentCondition(keyMd5: string, segments: readonly string[] | null): string {
  if (segments === null) return 'TRUE';
  if (segments.length === 0) return 'FALSE';
  return segments.map((s) => `LEFT(${keyMd5}, ${s.length}) = '${checkSegment(s)}'`).join(' OR ');
}

/** The 16 segments one digit longer than `segment`. */
export function children(segment: string): string[] {
  return [...'0123456789abcdef'].map((d) => segment + d);
}

/** The segments of a sample: `fraction` of the key space, chosen from `seed`, at `digits` hex digits. */
export function sampleSegments(seed: string, fraction: number, digits = 2): string[] {
  const total = 16 ** digits;
  const count = Math.max(1, Math.min(total, Math.round(total * fraction)));
  // A stride through the segments from a seed-derived start: spread over the key space, stable per seed.
  let start = 0;
  for (const ch of seed) start = (start * 31 + ch.charCodeAt(0)) % total;
  const step = total / count;
  const picked = new Set<string>();
  for (let i = 0; i < count; i++) {
    picked.add(
      Math.floor((start + i * step) % total)
        .toString(16)
        .padStart(digits, '0'),
    );
  }
  return [...picked].sort();
}

/** Compares two sides by bisecting segments whose checksums differ down to keys and columns. */
export async function reconcile(
  source: DigestSide,
  target: DigestSide,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  const { columns } = options;
  const leafRows = options.leafRows ?? 64;
  const maxSegments = options.maxSegments ?? 64;
  const maxKeys = options.maxKeys ?? 1000;
  const progress = options.onProgress ?? (() => {});
  let digits = Math.max(1, Math.min(HEX_DIGITS, options.firstDigits ?? 2));
  const sample = options.sample ?? null;
  if (sample !== null) {
    for (const s of sample) checkSegment(s);
    digits = Math.max(digits, ...sample.map((s) => s.length));
  }
  let within: readonly string[] | null = sample;
  let segments = 0;
  let compared = 0;
  let levels = 0;
  let sourceRows = 0;
  let targetRows = 0;
  let truncated = false;
  const unsplit: string[] = [];
  const missing: (string | null)[][] = [];
  const extra: (string | null)[][] = [];
  const differing: DifferingRow[] = [];
  const named = () => missing.length + extra.length + differing.length;

  while (within === null || within.length > 0) {
    levels += 1;
    const request: SegmentRequest = { columns, digits, within };
    const [ours, theirs] = await Promise.all([source.segments(request), target.segments(request)]);
    const a = new Map(ours.map((s) => [s.segment, s]));
    const b = new Map(theirs.map((s) => [s.segment, s]));
    if (levels === 1) {
      sourceRows = ours.reduce((n, s) => n + s.rows, 0);
      targetRows = theirs.reduce((n, s) => n + s.rows, 0);
    }
    segments += ours.length + theirs.length;
    const all = [...new Set([...a.keys(), ...b.keys()])].sort();
    compared += all.length;
    const differ = all.filter((s) => {
      const x = a.get(s);
      const y = b.get(s);
      return x?.rows !== y?.rows || x?.sum !== y?.sum;
    });
    progress(
      `level ${levels}: ${all.length} segment(s) of ${digits} hex digit(s) compared, ${differ.length} differ`,
    );
    if (differ.length === 0) break;
    const small = differ.filter(
      (s) => digits === HEX_DIGITS || Math.max(a.get(s)?.rows ?? 0, b.get(s)?.rows ?? 0) <= leafRows,
    );
    const large = differ.filter((s) => !small.includes(s));
    if (small.length > 0 && named() < maxKeys) {
      const request: RowRequest = { columns, segments: small };
      const [rowsA, rowsB] = await Promise.all([source.rows(request), target.rows(request)]);
      compareRows(rowsA, rowsB, columns, { missing, extra, differing });
      progress(`compared the rows of ${small.length} segment(s): ${named()} key(s) differ so far`);
    } else if (small.length > 0) {
      truncated = true;
      unsplit.push(...small);
    }
    const split = large.slice(0, maxSegments);
    if (large.length > split.length) {
      truncated = true;
      unsplit.push(...large.slice(maxSegments));
    }
    within = split;
    digits += 1;
  }
  if (named() > maxKeys) truncated = true;
  return {
    segments,
    checksumsCompared: compared,
    levels,
    sourceRows,
    targetRows,
    missing: missing.slice(0, maxKeys),
    extra: extra.slice(0, maxKeys),
    differing: differing.slice(0, maxKeys),
    truncated,
    unsplit,
    sampled: sample !== null,
  };
}

function compareRows(
  ours: readonly RowDigest[],
  theirs: readonly RowDigest[],
  columns: readonly string[],
  out: { missing: (string | null)[][]; extra: (string | null)[][]; differing: DifferingRow[] },
): void {
  const b = new Map(theirs.map((r) => [r.key, r]));
  const a = new Map(ours.map((r) => [r.key, r]));
  for (const row of [...ours].sort(byKey)) {
    const other = b.get(row.key);
    if (other === undefined) out.missing.push(decodeFields(row.key));
    else if (other.row !== row.row) {
      const changed = columns.filter((_, i) => row.columns[i] !== other.columns[i]);
      out.differing.push({ key: decodeFields(row.key), columns: changed });
    }
  }
  for (const row of [...theirs].sort(byKey)) {
    if (!a.has(row.key)) out.extra.push(decodeFields(row.key));
  }
}

function byKey(x: RowDigest, y: RowDigest): number {
  return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
}

/** Whether the two sides hold the same values. */
export function isEqual(result: ReconcileResult): boolean {
  return (
    result.missing.length === 0 &&
    result.extra.length === 0 &&
    result.differing.length === 0 &&
    result.unsplit.length === 0
  );
}

/** A key for a person: `(id)=(4)`, or `(a, b)=(1, x)`. */
export function describeKey(keyColumns: readonly string[], key: readonly (string | null)[]): string {
  return `(${keyColumns.join(', ')})=(${key.map((v) => (v === null ? 'NULL' : v)).join(', ')})`;
}

/** What differs, in a few lines: for an error message, an audit event or the command line. */
export function describeDifferences(
  keyColumns: readonly string[],
  result: ReconcileResult,
  maxListed = 20,
): string[] {
  const lines: string[] = [];
  const list = (what: string, keys: readonly (readonly (string | null)[])[]) => {
    if (keys.length === 0) return;
    const shown = keys.slice(0, maxListed).map((k) => describeKey(keyColumns, k));
    const more = keys.length > maxListed ? ` and ${keys.length - maxListed} more` : '';
    lines.push(`${keys.length} ${what}: ${shown.join(', ')}${more}`);
  };
  list('key(s) missing in the target', result.missing);
  list('key(s) in the target but not in the source', result.extra);
  if (result.differing.length > 0) {
    const shown = result.differing
      .slice(0, maxListed)
      .map((d) => `${describeKey(keyColumns, d.key)} in ${d.columns.join(', ')}`);
    const more =
      result.differing.length > maxListed ? ` and ${result.differing.length - maxListed} more` : '';
    lines.push(`${result.differing.length} row(s) with differing values: ${shown.join('; ')}${more}`);
  }
  if (result.unsplit.length > 0) {
    lines.push(
      `${result.unsplit.length} more differing segment(s) not split further: ${result.unsplit.slice(0, maxListed).join(', ')}`,
    );
  }
  return lines;
}
