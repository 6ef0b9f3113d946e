// The upper bound of a window open above, chosen on the export's connection just before its snapshot so
// that no row below it can still appear afterwards: for a timestamp cursor, below the clock (minus the
// lag) and every transaction still open; for an integer cursor, one past the largest committed value,
// once every transaction open at that read has ended. Why this skips no row: docs/window-bound.md.
import { setTimeout } from 'node:timers/promises';
import type pg from 'pg';
import { InvalidInputError, SourceAuthError, SourceUnavailableError } from '../../domain/errors';
import type { ColumnInfo, ResolvedTable } from '../../domain/table';
import type { PgConnections } from './connection';
import { ident, qualified } from './sql';

const SETTLE_POLL_MS = 50;

/** `min(T0 - lag, earliest start of any other open transaction)`, T0 being the database clock read first. */
export async function timestampUpper(
  where: Pick<PgConnections, 'where' | 'user'>,
  client: pg.PoolClient,
  table: ResolvedTable,
  lagMs: number,
): Promise<string> {
  const cursor = table.columns.find((c) => c.name === table.cursorColumn);
  if (!cursor)
    throw new InvalidInputError(
      `cursor column ${table.cursorColumn} is not a column of ${table.schema}.${table.name}`,
    );
  // Two statements, each its own transaction: the clock is read strictly before the session list.
  const t0 = (await client.query<{ t0: string }>(CLOCK_SQL)).rows[0]?.t0;
  const read = await client.query<{ upper: string; hidden: number }>(timestampUpperSql(cursor), [t0, lagMs]);
  const row = read.rows[0];
  if (!row) throw new Error('the upper bound query returned no row');
  refuseHidden(where, row.hidden);
  return row.upper;
}

/**
 * One past the largest committed value, once every transaction open after that read has ended; if they
 * do not end within `settleMs`, SourceUnavailableError (retried later) rather than a guess.
 */
export async function integerUpper(
  where: Pick<PgConnections, 'where' | 'user'>,
  client: pg.PoolClient,
  table: ResolvedTable,
  settleMs: number,
): Promise<string | null> {
  const max = (await client.query<{ upper: string | null }>(integerUpperSql(table))).rows[0]?.upper ?? null;
  const open = (
    await client.query<{ pid: number; started: string | null; hidden: boolean }>(OPEN_TRANSACTIONS_SQL)
  ).rows;
  refuseHidden(where, open.filter((o) => o.hidden).length);
  const pids = open.map((o) => o.pid);
  const started = open.map((o) => o.started);
  const deadline = Date.now() + settleMs;
  for (;;) {
    if (pids.length === 0) return max;
    const still = (await client.query<{ n: number }>(STILL_OPEN_SQL, [pids, started])).rows[0]?.n ?? 0;
    if (still === 0) return max;
    if (Date.now() >= deadline) {
      throw new SourceUnavailableError(
        `${still} transaction(s) open in ${where.where} since before the export of ${table.schema}.${table.name} began did not end within ${settleMs} ms; until they do, rows they hold could commit below the bound of its integer cursor "${table.cursorColumn}": the step will retry (look for sessions idle in transaction in pg_stat_activity)`,
      );
    }
    await setTimeout(SETTLE_POLL_MS);
  }
}

function refuseHidden(where: Pick<PgConnections, 'where' | 'user'>, hidden: number): void {
  if (hidden > 0) {
    throw new SourceAuthError(
      `PostgreSQL user ${where.user} cannot see ${hidden} other session(s) of ${where.where} in pg_stat_activity, so an export cannot tell whether a transaction still in flight will commit rows below its upper bound: GRANT pg_read_all_stats TO that user`,
    );
  }
}

/** `to_char` pattern of a UTC instant with microseconds; unlike `::text` it ignores DateStyle. */
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** The database clock, to the microsecond. */
const CLOCK_SQL = `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', ${ISO_UTC}) AS t0`;

/**
 * Given the clock read `$1` and a lag in milliseconds `$2`: `least($1 - lag, the earliest start of any
 * other transaction open in this database)`, as the cursor column can hold it (a date cursor is floored
 * to its day), and how many sessions of this database the current user may not see. Any open
 * transaction counts, not only those with a `backend_xid` or `backend_xmin`: one that has not written
 * yet (say, idle after BEGIN) has neither, yet may still write a row stamped with its `now()`.
 * Autovacuum never writes rows of user tables, so it does not hold the bound back.
 */
function timestampUpperSql(cursor: ColumnInfo): string {
  const utc = `least($1::timestamptz - $2::int8 * interval '1 millisecond', (SELECT min(xact_start) FROM open WHERE backend_type IS DISTINCT FROM 'autovacuum worker')) AT TIME ZONE 'UTC'`;
  const bound = cursor.baseType === 'date' ? `date_trunc('day', ${utc})` : utc;
  return `WITH open AS (
    SELECT xact_start, backend_type FROM pg_catalog.pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid())
  SELECT to_char(${bound}, ${ISO_UTC}) AS upper,
         (SELECT count(*) FROM open WHERE backend_type IS NULL)::int AS hidden`;
}

/**
 * The other transactions open in this database, each named by its backend and start time, and the
 * sessions the current user may not see (`hidden`). Autovacuum is left out for the reason above.
 */
const OPEN_TRANSACTIONS_SQL = `
  SELECT pid, to_char(xact_start AT TIME ZONE 'UTC', ${ISO_UTC}) AS started, backend_type IS NULL AS hidden
  FROM pg_catalog.pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND backend_type IS DISTINCT FROM 'autovacuum worker'
    AND (xact_start IS NOT NULL OR backend_type IS NULL)`;

/** How many of the transactions `$1` (pids) / `$2` (start times, as OPEN_TRANSACTIONS_SQL gives them) are still open. */
const STILL_OPEN_SQL = `
  SELECT count(*)::int AS n
  FROM pg_catalog.pg_stat_activity a
  JOIN unnest($1::int[], $2::text[]) AS o(pid, started)
    ON a.pid = o.pid AND to_char(a.xact_start AT TIME ZONE 'UTC', ${ISO_UTC}) = o.started`;

/** One past the largest value of an integer cursor, computed without overflowing its type. */
function integerUpperSql(table: ResolvedTable): string {
  return `SELECT (max(${ident(table.cursorColumn)})::numeric + 1)::text AS upper FROM ${qualified(table)}`;
}
