// The PostgreSQL source: checks configured tables against the catalog (`catalog.ts`), counts slices, and
// exports a slice as compressed CSV parts to the stage (`export.ts`), counting and copying in one REPEATABLE
// READ snapshot. Identifiers are always quoted and catalog lookups use bind parameters, so a configured
// name is only ever read as a name.
import type { PostgresConfig } from '../../config';
import type { KeyStats } from '../../domain/chunks';
import type { RowDigest, RowRequest, SegmentRequest, SegmentSum } from '../../domain/reconcile';
import type { ResolvedTable, TableSpec } from '../../domain/table';
import type { ExportOptions, ExportResult, Slice, Source, Stage } from '../../ports';
import { resolveTable } from './catalog';
import { rowDigests, segmentSums } from './checksum';
import { PgConnections } from './connection';
import { presentKeys } from './deletes';
import { countSlice, exportSlice, keyStatsOf } from './export';

/** Tally's PostgreSQL source. Construct it from the `postgres` configuration; call `close()` when done. */
export class PostgresSource implements Source {
  private readonly connections: PgConnections;

  constructor(config: PostgresConfig) {
    this.connections = new PgConnections(config);
  }

  resolve(spec: TableSpec): Promise<ResolvedTable> {
    return resolveTable(this.connections, spec);
  }

  count(table: ResolvedTable, slice: Slice): Promise<number> {
    return countSlice(this.connections, table, slice);
  }

  keyStats(table: ResolvedTable): Promise<KeyStats> {
    return keyStatsOf(this.connections, table);
  }

  export(table: ResolvedTable, slice: Slice, stage: Stage, options: ExportOptions): Promise<ExportResult> {
    return exportSlice(this.connections, table, slice, stage, options);
  }

  segmentSums(table: ResolvedTable, slice: Slice, request: SegmentRequest): Promise<SegmentSum[]> {
    return segmentSums(this.connections, table, slice, request);
  }

  rowDigests(table: ResolvedTable, slice: Slice, request: RowRequest): Promise<RowDigest[]> {
    return rowDigests(this.connections, table, slice, request);
  }

  presentKeys(table: ResolvedTable, keys: readonly string[]): Promise<string[]> {
    return presentKeys(this.connections, table, keys);
  }

  close(): Promise<void> {
    return this.connections.close();
  }
}
