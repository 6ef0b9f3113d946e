// A slice of a table exported as compressed CSV parts to the stage: counted and copied in one REPEATABLE READ
// snapshot, with the upper bound of an open window chosen just before it, and refused unless the files,
// COPY's own count and the snapshot's count all agree.
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { KeyPoint, KeyStats } from '../../domain/chunks';
import { CODEC_NAMES, CODECS } from '../../domain/compression';
import { CountMismatchError, InvalidInputError, UnrepresentableValueError } from '../../domain/errors';
import { qualifiedName, type ResolvedTable } from '../../domain/table';
import type { TargetLimit } from '../../domain/type-mapping';
import { type CursorKind, compareBounds } from '../../domain/window';
import type { ExportOptions, ExportResult, Slice, Stage } from '../../ports';
import { effectiveCompression, requireCodec } from '../compression';
import type { PgConnections } from './connection';
import { trackRecordEnds } from './copy-rows';
import { writeCsvParts } from './csv-parts';
import {
  BEGIN_SNAPSHOT,
  bindRenderer,
  ident,
  limitChecks,
  qualified,
  selectList,
  settingRenderer,
  settingsStatement,
  sliceCondition,
  splitKeyColumn,
} from './sql';
import { integerUpper, timestampUpper } from './upper-bound';

const DEFAULT_MAX_FILE_BYTES = 128 * 1024 * 1024;
const DEFAULT_SETTLE_MS = 10_000;

export async function exportSlice(
  connections: PgConnections,
  table: ResolvedTable,
  slice: Slice,
  stage: Stage,
  options: ExportOptions,
): Promise<ExportResult> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const compression = effectiveCompression(options.compression);
  const lagMs = options.lagMs ?? 0;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const { minLevel, maxLevel } = CODECS[compression.codec] ?? {};
  if (minLevel === undefined || maxLevel === undefined) {
    throw new InvalidInputError(
      `compression codec must be one of ${CODEC_NAMES.join(', ')}, got ${compression.codec}`,
    );
  }
  if (!Number.isInteger(compression.level) || compression.level < minLevel || compression.level > maxLevel) {
    throw new InvalidInputError(
      `${compression.codec} level must be an integer from ${minLevel} to ${maxLevel}, got ${compression.level}`,
    );
  }
  requireCodec(compression.codec);
  if (!(maxFileBytes > 0)) throw new InvalidInputError(`maxFileBytes must be positive, got ${maxFileBytes}`);
  for (const [option, ms] of [
    ['lagMs', lagMs],
    ['settleMs', settleMs],
  ] as const) {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new InvalidInputError(`${option} must be a whole number of milliseconds, 0 or more, got ${ms}`);
    }
  }
  // Checked before connecting, so a bad slice fails without touching the database or the stage.
  sliceCondition(table, slice, settingRenderer([]));
  const openAbove = slice.kind === 'window' && slice.window.to === null;
  // A whole table, or one chunk of it, records the bound its own snapshot could see.
  const chooseBound = openAbove || (slice.kind !== 'window' && options.boundCursor === true);
  const name = qualifiedName(table);

  return connections.withClient(async (client) => {
    let upper = slice.kind === 'window' ? slice.window.to : null;
    if (chooseBound) {
      upper =
        table.cursorKind === 'timestamp'
          ? await timestampUpper(connections, client, table, lagMs)
          : await integerUpper(connections, client, table, settleMs);
    }
    await client.query(BEGIN_SNAPSHOT);
    let bounded = slice;
    if (slice.kind === 'window' && openAbove) {
      upper = notBelow(upper, slice.window.from, table.cursorKind);
      bounded = { kind: 'window', window: { from: slice.window.from, to: upper } };
    }
    // One scan counts the window and finds any value Snowflake could not hold, before anything is written.
    const sourceCount = await countAndCheck(client, table, bounded);
    // COPY takes no bind parameters: the bounds are bound into settings of this transaction instead.
    const bounds: string[] = [];
    const copySql = `COPY (SELECT ${selectList(table)} FROM ${qualified(table)} WHERE ${sliceCondition(table, bounded, settingRenderer(bounds))}) TO STDOUT WITH (FORMAT csv, HEADER)`;
    const settings = settingsStatement(bounds);
    if (settings !== null) await client.query(settings.text, settings.values);
    const reader = copyTo(copySql);
    // pg-copy-streams reports a lost connection by emitting 'error' on the stream, not by destroying it.
    // Until the parts writer starts reading (it first deletes an earlier attempt's parts), and after the
    // last row (before PostgreSQL's ReadyForQuery), nothing else listens: the error would be an uncaught
    // exception and the stream would wait for data forever. Destroying it with the error keeps the error
    // on the stream, where the writer's read finds it whenever it starts.
    reader.on('error', (err) => {
      if (!reader.destroyed) reader.destroy(err);
    });
    const ends = trackRecordEnds(reader);
    const copy = client.query(reader);
    let files: Awaited<ReturnType<typeof writeCsvParts>>;
    try {
      files = await writeCsvParts(copy, ends, stage, {
        keyPrefix: options.keyPrefix,
        maxFileBytes,
        compression,
      });
    } catch (err) {
      // The COPY may still be sending: stop reading; withClient then discards the connection.
      copy.destroy();
      throw err;
    }
    await client.query('COMMIT');
    const rows = files.reduce((sum, f) => sum + f.rows, 0);
    const problem =
      rows !== copy.rowCount
        ? `the files hold ${rows} rows but COPY reported ${copy.rowCount}`
        : rows !== sourceCount
          ? `the export wrote ${rows} rows but the snapshot counted ${sourceCount}`
          : null;
    if (problem !== null) {
      await stage.delete(files.map((f) => f.key)).catch(() => {});
      throw new CountMismatchError(`export of ${name} does not balance: ${problem}; the files were removed`);
    }
    return {
      sourceCount,
      rows,
      rawBytes: files.reduce((sum, f) => sum + f.rawBytes, 0),
      compressedBytes: files.reduce((sum, f) => sum + f.compressedBytes, 0),
      files,
      ...(upper !== null ? { upper } : {}),
    };
  });
}

/**
 * An upper bound never below the window's start: when the chosen bound falls below it (a start set by
 * hand, or an older transaction still open), the window is empty at its start and reads nothing.
 */
function notBelow(upper: string | null, from: string | null, kind: CursorKind): string | null {
  if (from === null) return upper;
  return upper === null || compareBounds(upper, from, kind) < 0 ? from : upper;
}

/**
 * The split points of the leading primary-key column and the planner's estimate of the table's rows, in
 * one snapshot and from the catalog only (`pg_stats`, `pg_class.reltuples`): no scan of the table. The
 * histogram bounds and most common values are read back in the column's type and sorted in its own
 * order (with its collation), so the ranges compare as the column's index does. A table never analyzed
 * has no statistics and loads in one piece.
 */
export function keyStatsOf(connections: PgConnections, table: ResolvedTable): Promise<KeyStats> {
  const key = splitKeyColumn(table);
  if ('reason' in key) return Promise.resolve({ kind: 'none', reason: key.reason });
  const type = key.baseType;
  return connections.withClient(async (client) => {
    await client.query(BEGIN_SNAPSHOT);
    try {
      const collation = (
        await client.query<{ schema: string; name: string }>(
          `SELECT n.nspname AS schema, c.collname AS name
           FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_collation c ON c.oid = a.attcollation
           JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
           WHERE a.attrelid = $1::regclass AND a.attname = $2`,
          [qualified(table), key.name],
        )
      ).rows[0];
      const collate = collation ? ` COLLATE ${ident(collation.schema)}.${ident(collation.name)}` : '';
      const statsOf = `SELECT histogram_bounds, most_common_vals, most_common_freqs, null_frac::float8 AS null_frac
           FROM pg_catalog.pg_stats
           WHERE schemaname = $1 AND tablename = $2 AND attname = $3
           ORDER BY inherited DESC LIMIT 1`;
      const names = [table.schema, table.name, key.name];
      const found = (
        await client.query<{ null_frac: number; estimated: number }>(
          `SELECT s.null_frac,
                  (SELECT reltuples FROM pg_catalog.pg_class WHERE oid = $4::regclass)::float8 AS estimated
           FROM (${statsOf}) AS s`,
          [...names, qualified(table)],
        )
      ).rows[0];
      const estimated = Number(found?.estimated ?? -1);
      if (found === undefined || !(estimated >= 0)) {
        return {
          kind: 'none',
          reason: `PostgreSQL has no statistics of its key column "${key.name}" (the table was never analyzed); run ANALYZE ${qualifiedName(table)} and the next historical load splits it`,
        };
      }
      const { rows } = await client.query<{ value: string; freq: number | null }>(
        `WITH s AS (
           SELECT histogram_bounds::text::${type}[] AS hist, most_common_vals::text::${type}[] AS mcv,
                  most_common_freqs AS freqs
           FROM (${statsOf}) AS raw),
         points AS (
           SELECT h AS v, NULL::float8 AS freq FROM s, unnest(s.hist) AS h
           UNION ALL
           SELECT m, f::float8 FROM s, unnest(s.mcv, s.freqs) AS x(m, f))
         SELECT v::text AS value, freq FROM points ORDER BY v${collate}`,
        names,
      );
      return {
        kind: 'stats',
        column: key.name,
        estimatedRows: estimated,
        points: keyPoints(rows, Number(found.null_frac)),
      };
    } finally {
      await client.query('COMMIT');
    }
  });
}

/**
 * Each point's share of the rows: a most common value its own frequency, a histogram bound its bucket
 * (the histogram's buckets share equally what neither the most common values nor nulls hold); the last
 * bound closes the histogram and holds nothing above it.
 */
function keyPoints(rows: readonly { value: string; freq: number | null }[], nullFrac: number): KeyPoint[] {
  const bounds = rows.filter((r) => r.freq === null).length;
  const common = rows.reduce((n, r) => n + (r.freq ?? 0), 0);
  const bucket = bounds > 1 ? Math.max(0, 1 - nullFrac - common) / (bounds - 1) : 0;
  let seen = 0;
  return rows.map((r) => {
    if (r.freq !== null) return { value: r.value, share: r.freq };
    seen++;
    return { value: r.value, share: seen < bounds ? bucket : 0 };
  });
}

/** Counts a slice in a snapshot of its own. */
export function countSlice(connections: PgConnections, table: ResolvedTable, slice: Slice): Promise<number> {
  return connections.withClient(async (client) => {
    await client.query(BEGIN_SNAPSHOT);
    const n = await countIn(client, table, slice);
    await client.query('COMMIT');
    return n;
  });
}

/**
 * The window's row count, in the same scan as the values its target types cannot hold: any such value
 * fails the export with UnrepresentableValueError, naming each column and how many rows hold one.
 */
async function countAndCheck(client: pg.PoolClient, table: ResolvedTable, slice: Slice): Promise<number> {
  const checks = limitChecks(table);
  const params: unknown[] = [];
  const condition = sliceCondition(table, slice, bindRenderer(params));
  const filters = checks.map((c, i) => `, count(*) FILTER (WHERE ${c.condition}) AS bad${i}`).join('');
  const result = await client.query<Record<string, string>>(
    `SELECT count(*) AS n${filters} FROM ${qualified(table)} WHERE ${condition}`,
    params,
  );
  const row = result.rows[0] ?? {};
  const bad = checks
    .map((check, i) => ({ check, rows: Number(row[`bad${i}`] ?? 0) }))
    .filter((b) => b.rows > 0);
  if (bad.length > 0) {
    const listed = bad.map(
      (b) =>
        `"${b.check.column.name}" (${b.check.column.pgType}): ${b.rows} row(s) ${holding(b.check.limit)}`,
    );
    throw new UnrepresentableValueError(
      `${qualifiedName(table)} holds values Snowflake cannot hold in the mapped column types: ${listed.join('; ')}; nothing was exported. List such columns in the table's textColumns to carry their exact PostgreSQL text as VARCHAR, or change the values`,
    );
  }
  return Number(row.n ?? 0);
}

function holding(limit: TargetLimit): string {
  switch (limit.kind) {
    case 'finite-year-1-to-9999':
      return 'with infinity, a year before 1 (BC) or a year after 9999';
    case 'before-24h':
      return "with the time '24:00:00' (Snowflake's TIME ends at 23:59:59.999999999)";
    case 'not-nan':
      return "with 'NaN', which NUMBER has no value for";
    case 'max-bytes':
      return limit.of === 'VARCHAR'
        ? `longer than ${limit.bytes} bytes, Snowflake's largest VARCHAR`
        : `whose JSON is longer than ${limit.bytes} bytes, Snowflake's largest VARIANT or ARRAY`;
  }
}

async function countIn(client: pg.PoolClient, table: ResolvedTable, slice: Slice): Promise<number> {
  const params: unknown[] = [];
  const condition = sliceCondition(table, slice, bindRenderer(params));
  const result = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualified(table)} WHERE ${condition}`,
    params,
  );
  return Number(result.rows[0]?.n ?? 0);
}
