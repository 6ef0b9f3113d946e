// The source side of the delete check: which of the keys the target holds the table still holds, at any
// cursor value, in one snapshot. The keys are compared as their canonical text (`checksum.ts`), bound as
// one array parameter, so any key type and any number of key columns compare alike.
import type { ResolvedTable } from '../../domain/table';
import { keyTextSql } from './checksum';
import type { PgConnections } from './connection';
import { BEGIN_SNAPSHOT, qualified } from './sql';

export async function presentKeys(
  connections: PgConnections,
  table: ResolvedTable,
  keys: readonly string[],
): Promise<string[]> {
  if (keys.length === 0) return [];
  const sql = `SELECT k FROM (SELECT ${keyTextSql(table)} AS k FROM ${qualified(table)}) AS keys WHERE k = ANY($1::text[])`;
  return connections.withClient(async (client) => {
    await client.query(BEGIN_SNAPSHOT);
    const result = await client.query<{ k: string }>(sql, [[...keys]]);
    await client.query('COMMIT');
    return result.rows.map((r) => String(r.k));
  });
}
