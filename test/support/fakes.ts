// In-memory stand-ins for the ports, for unit tests of the steps' own logic (no data moves here).
import type { Readable } from 'node:stream';
import { parseConfig } from '../../lambdas/config';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { SourceSchemaError } from '../../lambdas/domain/errors';
import type { ResolvedTable, TableSpec } from '../../lambdas/domain/table';
import type { AuditFilter, Slice, Source, Stage, TableLease, Warehouse } from '../../lambdas/ports';
import type { StepDeps } from '../../lambdas/steps/deps';

export const config = parseConfig({
  tables: [
    { name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' },
    { name: 'customers', primaryKey: 'id', cursorColumn: 'updated_at' },
  ],
  postgres: { url: 'postgres://u@127.0.0.1/db' },
  s3: { bucket: 'bucket', prefix: 'tally' },
  snowflake: { account: 'acct', username: 'u', password: 'p', database: 'DB' },
  pipeline: { lookbackSeconds: 300, lagSeconds: 60 },
});

export function resolve(spec: TableSpec): ResolvedTable {
  return {
    ...spec,
    targetName: spec.name.toUpperCase(),
    cursorKind: 'timestamp',
    columns: [{ name: 'id', pgType: 'integer', category: 'N', baseType: 'int4', nullable: false }],
  };
}

export class FakeWarehouse implements Warehouse {
  audit: AuditEvent[] = [];
  bootstrapped: string[] = [];
  targetCount = 0;
  async bootstrap(tables: readonly ResolvedTable[]) {
    this.bootstrapped.push(...tables.map((t) => t.name));
  }
  async copyInto() {
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  async merge() {
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  async replaceWith() {
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  async count(_table: ResolvedTable, _slice: Slice) {
    return this.targetCount;
  }
  async insertAudit(events: readonly AuditEvent[]) {
    this.audit.push(...events);
  }
  async readAudit(filter: AuditFilter = {}) {
    return this.audit.filter(
      (e) =>
        (!filter.jobId || e.jobId === filter.jobId) &&
        (!filter.executionId || e.executionId === filter.executionId) &&
        (!filter.table || e.sourceTable === filter.table),
    );
  }
  leases = new Map<string, TableLease>();
  async acquireLease(table: string, executionId: string, now: Date, ttlMs: number) {
    const held = this.leases.get(table);
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    if (!held || held.expiresAt <= now.toISOString()) {
      this.leases.set(table, { table, executionId, acquiredAt: now.toISOString(), expiresAt });
    } else if (held.executionId === executionId) {
      this.leases.set(table, { ...held, expiresAt });
    }
    return this.leases.get(table) as TableLease;
  }
  async releaseLease(table: string, executionId: string) {
    if (this.leases.get(table)?.executionId === executionId) this.leases.delete(table);
  }
  async close() {}
}

export class FakeStage implements Stage {
  readonly bucket = 'bucket';
  readonly json = new Map<string, unknown>();
  async upload(key: string, _body: Readable) {
    return { key, bytes: 0 };
  }
  async putJson(key: string, value: unknown) {
    this.json.set(key, value);
  }
  async getJson<T>(key: string) {
    return (this.json.get(key) as T) ?? null;
  }
  async list(prefix: string) {
    return [...this.json.keys()].filter((k) => k.startsWith(prefix));
  }
  async delete(keys: readonly string[]) {
    for (const key of keys) this.json.delete(key);
  }
}

export class FakeSource implements Source {
  missing = new Set<string>();
  async resolve(spec: TableSpec) {
    if (this.missing.has(spec.name)) throw new SourceSchemaError(`table public.${spec.name} does not exist`);
    return resolve(spec);
  }
  async count() {
    return 0;
  }
  async export(): Promise<never> {
    throw new Error('not used by these tests');
  }
  async close() {}
}

export function fakeDeps(now = new Date('2025-01-01T12:00:00.000Z')) {
  const warehouse = new FakeWarehouse();
  const stage = new FakeStage();
  const source = new FakeSource();
  const deps: StepDeps = { config, ports: { source, stage, warehouse }, now: () => now };
  return { deps, warehouse, stage, source };
}
