// The audit table on Snowflake: events inserted in batches of array binds and read back exactly as they
// were written, since the hash chain covers every column's text.
import { AUDIT_COLUMNS, type AuditEvent } from '../../domain/audit';
import { checkFilter } from '../../domain/audit-filter';
import { InvalidInputError } from '../../domain/errors';
import type { AuditFilter, AuditTable } from '../../ports';
import type { Bind, Row, SnowflakeSession } from './session';
import { ident, qualified } from './sql';

/** Rows per audit INSERT: array binds stay well below the driver's stage-upload threshold. */
const AUDIT_BATCH = 500;

export class SnowflakeAuditTable implements AuditTable {
  constructor(private readonly session: SnowflakeSession) {}

  private get name(): string {
    return qualified(this.session.config, this.session.config.auditTable);
  }

  async insert(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const columns = AUDIT_COLUMNS.map((c) => ident(c.column)).join(', ');
    const placeholders = AUDIT_COLUMNS.map(() => '?').join(', ');
    const sql = `INSERT INTO ${this.name} (${columns}) VALUES (${placeholders})`;
    for (let i = 0; i < events.length; i += AUDIT_BATCH) {
      const rows = events.slice(i, i + AUDIT_BATCH).map(auditBinds);
      // One row binds positionally; several go as array binds (one round trip).
      await this.session.query('writing audit events', sql, rows.length === 1 ? rows[0] : rows);
    }
  }

  async read(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    checkFilter(filter);
    const conditions: string[] = [];
    const binds: Bind[] = [];
    const equals = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      conditions.push(`${ident(column)} = ?`);
      binds.push(value);
    };
    const oneOf = (column: string, values: readonly string[] | undefined) => {
      if (values === undefined) return;
      conditions.push(`${ident(column)} IN (${values.map(() => '?').join(', ')})`);
      binds.push(...values);
    };
    equals('JOB_ID', filter.jobId);
    equals('EXECUTION_ID', filter.executionId);
    if (filter.table !== undefined) {
      conditions.push('("SOURCE_TABLE" = ? OR "TARGET_TABLE" = ?)');
      binds.push(filter.table, filter.table);
    }
    oneOf('SOURCE_TABLE', filter.sourceTables);
    oneOf('EVENT_TYPE', filter.eventTypes);
    equals('PIPELINE_NAME', filter.pipeline);
    oneOf('EVENT_ID', filter.eventIds);
    if (filter.since !== undefined) {
      conditions.push('"CREATED_AT" >= ?::TIMESTAMP_TZ');
      binds.push(filter.since);
    }
    if (filter.after !== undefined) {
      conditions.push(
        '("CREATED_AT" > ?::TIMESTAMP_TZ OR ("CREATED_AT" = ?::TIMESTAMP_TZ AND "EVENT_ID" > ?))',
      );
      binds.push(filter.after.createdAt, filter.after.createdAt, filter.after.eventId);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const select = AUDIT_COLUMNS.map((c) => ident(c.column)).join(', ');
    const from = `SELECT ${select} FROM ${this.name}${where}`;
    // The newest few: QUALIFY filters on the window function's rank, per table when asked
    // (https://docs.snowflake.com/en/sql-reference/constructs/qualify).
    const sql =
      filter.newest === undefined
        ? from
        : `${from} QUALIFY ROW_NUMBER() OVER (${filter.perTable ? 'PARTITION BY "SOURCE_TABLE" ' : ''}ORDER BY "CREATED_AT" DESC, "EVENT_ID" DESC) <= ${filter.newest}`;
    const limit = filter.oldest === undefined ? '' : ` LIMIT ${filter.oldest}`;
    const rows = await this.session.query(
      'reading the audit log',
      `${sql} ORDER BY "CREATED_AT", "EVENT_ID"${limit}`,
      binds,
    );
    return rows.map(auditEvent);
  }
}

function auditBinds(event: AuditEvent): Bind[] {
  return AUDIT_COLUMNS.map(({ column, field, kind }) => {
    const value = event[field];
    if (value === null || value === undefined) return null;
    if (kind === 'boolean') return Boolean(value);
    if (kind === 'integer') return Number(value);
    // The hash chain covers the exact text: only the form that reads back identically may be stored.
    if (kind === 'timestamp' && !isCanonicalInstant(String(value))) {
      throw new InvalidInputError(
        `audit event ${event.eventId}: ${column} must be an ISO-8601 UTC instant as Date.toISOString() writes it, got '${String(value)}'`,
      );
    }
    return String(value);
  });
}

function isCanonicalInstant(value: string): boolean {
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === value;
}

function auditEvent(row: Row): AuditEvent {
  const event: Record<string, unknown> = {};
  for (const { column, field, kind } of AUDIT_COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) event[field] = null;
    else if (kind === 'timestamp') event[field] = value instanceof Date ? value.toISOString() : String(value);
    else if (kind === 'integer') event[field] = Number(value);
    else if (kind === 'boolean')
      event[field] = value === true || value === 'true' || value === 'TRUE' || value === '1';
    else event[field] = String(value);
  }
  return event as unknown as AuditEvent;
}
