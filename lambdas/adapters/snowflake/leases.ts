// The lease store on Snowflake: one row per table being loaded in TALLY_LOCKS, taken and renewed by one
// atomic MERGE, so two executions can never both see a table free.
import { WarehouseError } from '../../domain/errors';
import type { LeaseStore, TableLease } from '../../ports';
import { LOCK_TABLE } from './ddl';
import type { SnowflakeSession } from './session';
import { qualified } from './sql';

export class SnowflakeLeaseStore implements LeaseStore {
  constructor(private readonly session: SnowflakeSession) {}

  private get locks(): string {
    return qualified(this.session.config, LOCK_TABLE);
  }

  async acquire(table: string, executionId: string, now: Date, ttlMs: number): Promise<TableLease> {
    const what = `taking the lease on ${table}`;
    // A MERGE, not a read then a write: Snowflake runs MERGEs on one table one at a time, so two
    // executions cannot both see the table free.
    await this.session.query(
      what,
      `MERGE INTO ${this.locks} t USING (SELECT ? AS "TABLE_NAME", ? AS "EXECUTION_ID", ?::TIMESTAMP_TZ AS "ACQUIRED_AT", ?::TIMESTAMP_TZ AS "EXPIRES_AT") s ON t."TABLE_NAME" = s."TABLE_NAME"` +
        ' WHEN MATCHED AND t."EXECUTION_ID" = s."EXECUTION_ID" THEN UPDATE SET "EXPIRES_AT" = s."EXPIRES_AT"' +
        ' WHEN MATCHED AND t."EXPIRES_AT" <= s."ACQUIRED_AT" THEN UPDATE SET "EXECUTION_ID" = s."EXECUTION_ID", "ACQUIRED_AT" = s."ACQUIRED_AT", "EXPIRES_AT" = s."EXPIRES_AT"' +
        ' WHEN NOT MATCHED THEN INSERT ("TABLE_NAME", "EXECUTION_ID", "ACQUIRED_AT", "EXPIRES_AT") VALUES (s."TABLE_NAME", s."EXECUTION_ID", s."ACQUIRED_AT", s."EXPIRES_AT")',
      [table, executionId, now.toISOString(), new Date(now.getTime() + ttlMs).toISOString()],
    );
    // Oldest first: should two rows ever exist for one table, every reader names the same holder.
    const rows = await this.session.query(
      what,
      `SELECT "EXECUTION_ID", "ACQUIRED_AT", "EXPIRES_AT" FROM ${this.locks} WHERE "TABLE_NAME" = ? AND "EXPIRES_AT" > ?::TIMESTAMP_TZ ORDER BY "ACQUIRED_AT", "EXECUTION_ID" LIMIT 1`,
      [table, now.toISOString()],
    );
    const row = rows[0];
    if (!row) throw new WarehouseError(`${what}: the lease row was not found after it was written`);
    const instant = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
    return {
      table,
      executionId: String(row.EXECUTION_ID),
      acquiredAt: instant(row.ACQUIRED_AT),
      expiresAt: instant(row.EXPIRES_AT),
    };
  }

  async release(table: string, executionId: string): Promise<void> {
    await this.session.query(
      `releasing the lease on ${table}`,
      `DELETE FROM ${this.locks} WHERE "TABLE_NAME" = ? AND "EXECUTION_ID" = ?`,
      [table, executionId],
    );
  }
}
