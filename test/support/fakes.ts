// In-memory stand-ins for the ports, for unit tests of the steps' own logic (no data moves here).

import type { Readable } from 'node:stream';
import { appendAudit } from '../../lambdas/audit/writer';
import { type PipelineConfig, parseConfig } from '../../lambdas/config';
import type { StepDeps, StepLogger } from '../../lambdas/deps';
import type { AlertMessage } from '../../lambdas/domain/alert';
import { type AuditEvent, type AuditEventInput, blankEvent } from '../../lambdas/domain/audit';
import { checkFilter, selectEvents } from '../../lambdas/domain/audit-filter';
import type { KeyStats } from '../../lambdas/domain/chunks';
import { SourceSchemaError } from '../../lambdas/domain/errors';
import type { RowDigest, SegmentSum } from '../../lambdas/domain/reconcile';
import type { ResolvedTable, TableSpec } from '../../lambdas/domain/table';
import type {
  AuditFilter,
  AuditTable,
  LeaseStore,
  Slice,
  Source,
  Stage,
  TableLease,
  Warehouse,
} from '../../lambdas/ports';
import type { PortFactories } from '../../lambdas/runtime/lazy-ports';
import type {
  DeletesOutput,
  ExportOutput,
  LoadOutput,
  PlanOutput,
  TableOutcome,
  ValuesOutput,
  VerifyOutput,
} from '../../lambdas/steps/contract';
import { STEPS, type StepName, type StepState } from '../../lambdas/steps/registry';

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
  bootstrapped: string[] = [];
  targetCount = 0;
  /** The loads asked for, in order: which kind, of which table, with which keys. */
  loads: { kind: 'replace' | 'merge'; table: string; keys: readonly string[] }[] = [];
  async bootstrap(tables: readonly ResolvedTable[]) {
    this.bootstrapped.push(...tables.map((t) => t.name));
  }
  async merge(table: ResolvedTable, keys: readonly string[]) {
    this.loads.push({ kind: 'merge', table: table.name, keys });
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  async replaceWith(table: ResolvedTable, keys: readonly string[]) {
    this.loads.push({ kind: 'replace', table: table.name, keys });
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  /** The chunked loads asked for: each chunk's keys, then whether the copy was swapped in. */
  copies: { table: string; chunks: (readonly string[])[]; swapped: boolean }[] = [];
  async prepareCopy(table: ResolvedTable) {
    this.copies.push({ table: table.name, chunks: [], swapped: false });
  }
  async loadIntoCopy(table: ResolvedTable, keys: readonly string[]) {
    this.copies.findLast((c) => c.table === table.name)?.chunks.push(keys);
    return { files: [], rowsParsed: 0, rowsLoaded: 0 };
  }
  async countCopy(table: ResolvedTable) {
    const copy = this.copies.findLast((c) => c.table === table.name && !c.swapped);
    return { copy: copy ? 0 : null, target: this.targetCount };
  }
  async swapInCopy(table: ResolvedTable) {
    const copy = this.copies.findLast((c) => c.table === table.name);
    if (copy) copy.swapped = true;
  }
  async dropCopy() {}
  async count(_table: ResolvedTable, _slice: Slice) {
    return this.targetCount;
  }
  /** What segmentSums answers: these segments' sums (none: an empty table). */
  sums: SegmentSum[] = [];
  /** What rowDigests answers, whatever the segments asked for. */
  digests: RowDigest[] = [];
  async segmentSums() {
    return this.sums;
  }
  async rowDigests() {
    return this.digests;
  }
  /** What targetDrift answers, by source table name. */
  drift = new Map<string, string[]>();
  async targetDrift(table: ResolvedTable) {
    return this.drift.get(table.name) ?? [];
  }
  /** The tables given the soft-delete column, and the keys marked or deleted, in order. */
  marked: string[] = [];
  changed: { kind: 'mark' | 'delete'; table: string; keys: readonly string[] }[] = [];
  /** How many rows markDeleted and deleteKeys say they changed; all the keys asked for when null. */
  changes: number | null = null;
  async addDeletedMark(table: ResolvedTable) {
    this.marked.push(table.name);
  }
  async markDeleted(table: ResolvedTable, _slice: Slice, keys: readonly string[]) {
    this.changed.push({ kind: 'mark', table: table.name, keys });
    return this.changes ?? keys.length;
  }
  async deleteKeys(table: ResolvedTable, _slice: Slice, keys: readonly string[]) {
    this.changed.push({ kind: 'delete', table: table.name, keys });
    return this.changes ?? keys.length;
  }
}

export class FakeAuditTable implements AuditTable {
  events: AuditEvent[] = [];
  async insert(events: readonly AuditEvent[]) {
    this.events.push(...events);
  }
  /** Every read, as the steps asked it: a test can tell what a step reads. */
  readonly reads: AuditFilter[] = [];
  async read(filter: AuditFilter = {}) {
    checkFilter(filter);
    this.reads.push(filter);
    return selectEvents(this.events, filter);
  }
}

export class FakeLeaseStore implements LeaseStore {
  leases = new Map<string, TableLease>();
  async acquire(table: string, executionId: string, now: Date, ttlMs: number) {
    const held = this.leases.get(table);
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    if (!held || held.expiresAt <= now.toISOString()) {
      this.leases.set(table, { table, executionId, acquiredAt: now.toISOString(), expiresAt });
    } else if (held.executionId === executionId) {
      this.leases.set(table, { ...held, expiresAt });
    }
    return this.leases.get(table) as TableLease;
  }
  async release(table: string, executionId: string) {
    if (this.leases.get(table)?.executionId === executionId) this.leases.delete(table);
  }
}

export class FakeStage implements Stage {
  readonly bucket = 'bucket';
  readonly json = new Map<string, unknown>();
  /** Each key's ETag, changed by every write as S3's is; a conditional write compares against it. */
  private readonly etags = new Map<string, string>();
  private writes = 0;
  async upload(key: string, _body: Readable) {
    return { key, bytes: 0 };
  }
  async putJson(key: string, value: unknown) {
    this.set(key, value);
  }
  async keepJson(key: string, value: unknown) {
    if (this.json.has(key)) return 'exists' as const;
    this.set(key, value);
    return 'written' as const;
  }
  async getJson<T>(key: string) {
    return (this.json.get(key) as T) ?? null;
  }
  async getJsonTagged<T>(key: string) {
    const etag = this.etags.get(key);
    return etag === undefined ? null : { value: this.json.get(key) as T, etag };
  }
  /** As S3 answers: 412 when the key exists (If-None-Match: *) or holds another ETag, 404 when gone. */
  async putJsonIf(key: string, value: unknown, expected: { readonly etag: string } | null) {
    const etag = this.etags.get(key);
    if (expected === null ? etag !== undefined : etag !== expected.etag) return 'conflict' as const;
    return this.set(key, value);
  }
  async list(prefix: string) {
    return [...this.json.keys()].filter((k) => k.startsWith(prefix));
  }
  async delete(keys: readonly string[]) {
    for (const key of keys) {
      this.json.delete(key);
      this.etags.delete(key);
    }
  }
  private set(key: string, value: unknown): string {
    const etag = `"${++this.writes}"`;
    this.json.set(key, value);
    this.etags.set(key, etag);
    return etag;
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
  async keyStats(): Promise<KeyStats> {
    return { kind: 'none', reason: 'the fake source keeps no statistics' };
  }
  async export(): Promise<never> {
    throw new Error('not used by these tests');
  }
  /** What segmentSums answers: these segments' sums (none: an empty table). */
  sums: SegmentSum[] = [];
  /** What rowDigests answers, whatever the segments asked for. */
  digests: RowDigest[] = [];
  async segmentSums() {
    return this.sums;
  }
  async rowDigests() {
    return this.digests;
  }
  /** Keys presentKeys answers as still held, of those asked for. */
  present = new Set<string>();
  async presentKeys(_table: ResolvedTable, keys: readonly string[]) {
    return keys.filter((k) => this.present.has(k));
  }
  async close() {}
}

/** Steps' warnings, kept for a test to read. */
export class FakeLogger implements StepLogger {
  readonly lines: string[] = [];
  info(message: string) {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string) {
    this.lines.push(`warn: ${message}`);
  }
}

/** Fakes of every port; `pipeline` overrides the test configuration's pipeline settings. */
export function fakeDeps(now = new Date('2025-01-01T12:00:00.000Z'), pipeline: Partial<PipelineConfig> = {}) {
  const warehouse = new FakeWarehouse();
  const audit = new FakeAuditTable();
  const leases = new FakeLeaseStore();
  const stage = new FakeStage();
  const source = new FakeSource();
  const logger = new FakeLogger();
  const deps: StepDeps = {
    config: { ...config, pipeline: { ...config.pipeline, ...pipeline } },
    ports: { source, stage, warehouse, audit, leases },
    now: () => now,
    logger,
  };
  return { deps, warehouse, audit, leases, stage, source, logger };
}

/** The three warehouse ports of fakes, as an adapter factory hands them out. */
export function fakeWarehousePorts() {
  return {
    warehouse: new FakeWarehouse(),
    audit: new FakeAuditTable(),
    leases: new FakeLeaseStore(),
    close: async () => {},
  };
}

/** The warehouse ports of these fakes, as an adapter factory hands them out. */
export function warehousePortsOf(fakes: Pick<ReturnType<typeof fakeDeps>, 'warehouse' | 'audit' | 'leases'>) {
  return { warehouse: fakes.warehouse, audit: fakes.audit, leases: fakes.leases, close: async () => {} };
}

/** Adapter factories that hand out these fakes; the audit's readers and writers open no source. */
export function fakeFactories(fakes: ReturnType<typeof fakeDeps>): PortFactories {
  return {
    source: () => {
      throw new Error('the audit log is read and written without the source');
    },
    stage: () => fakes.stage,
    warehouse: () => warehousePortsOf(fakes),
  };
}

/** An audit event of one job on public.orders, as the audit tests write them. */
export function orderEvent(
  jobId: string,
  eventType: AuditEventInput['eventType'] = 'start',
): AuditEventInput {
  return blankEvent({
    jobId,
    executionId: `exec-${jobId}`,
    pipelineName: 'incremental',
    eventType,
    status: 'RUNNING',
    sourceSystem: 'postgresql',
    targetSystem: 'snowflake',
    sourceTable: 'public.orders',
    targetTable: 'ORDERS',
    jobStartTime: '2025-01-01T12:00:00.000Z',
  });
}

/** Fakes whose clock moves one millisecond per reading, as a writer's does between writes. */
export function tickingDeps() {
  const fakes = fakeDeps();
  let t = Date.parse('2025-01-01T12:00:00.000Z');
  const deps: StepDeps = { ...fakes.deps, now: () => new Date(t++) };
  return { ...fakes, deps };
}

/** Writes jobs `from` .. `from + count - 1`, each a start and a success event, one write each. */
export async function writeJobs(deps: StepDeps, from: number, count: number): Promise<void> {
  for (let j = from; j < from + count; j++) {
    await appendAudit(deps, [orderEvent(`J${j}`, 'start')]);
    await appendAudit(deps, [orderEvent(`J${j}`, 'success')]);
  }
}

interface StepOutputs {
  plan: PlanOutput;
  countSource: { sourceCount: number };
  exportToS3: ExportOutput;
  loadSnowflake: LoadOutput;
  verifyCounts: VerifyOutput;
  verifyValues: ValuesOutput;
  checkDeletes: DeletesOutput;
  writeAudit: TableOutcome | { alerted: number };
  composeAlert: AlertMessage;
}

/**
 * Runs a step as the registry binds it (its event validated, a table step framed by its retry event and
 * lease), with the state name the definition would pass: the step's only state, or the audit writer's
 * state for the event's mode.
 */
export function runStep<N extends StepName>(
  name: N,
  event: Record<string, unknown>,
  deps: StepDeps,
): Promise<StepOutputs[N]> {
  const states: readonly StepState[] = STEPS[name].states;
  const state = states.find((s) => s.mode === undefined || s.mode === event.mode) ?? states[0];
  return STEPS[name].run({ stateName: state?.name, ...event }, deps) as Promise<StepOutputs[N]>;
}
