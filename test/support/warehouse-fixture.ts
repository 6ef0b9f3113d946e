// The adapters a warehouse test file works with, against the embedded defaults: a PostgreSQL schema, an
// S3 prefix and a Snowflake schema of the file's own, opened before its tests and closed after them.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { type S3Config, type SnowflakeConfig, snowflakeSchema } from '../../lambdas/config';
import type { ResolvedTable } from '../../lambdas/domain/table';
import type { AuditTable, LeaseStore, Warehouse, WarehousePorts } from '../../lambdas/ports';
import { pgClient, pgConfig, s3Config } from './postgres';
import { type Connection, connect, destroy } from './snowflake-client';

export interface WarehouseFixture {
  readonly pgSchema: string;
  readonly sfSchema: string;
  readonly s3: S3Config;
  readonly sfConfig: SnowflakeConfig;
  /** Read these inside a test or hook: they are opened in beforeAll. */
  readonly admin: pg.Client;
  readonly source: PostgresSource;
  readonly stage: S3Stage;
  readonly warehouse: Warehouse;
  readonly audit: AuditTable;
  readonly leases: LeaseStore;
  /** A plain snowflake-sdk connection to the file's schema, values fetched as strings, NULL as null. */
  readonly reader: Connection;
  /** Resolves a table of the file's PostgreSQL schema keyed by `id` with cursor `updated_at`, and bootstraps its target. */
  keyedTable(name: string): Promise<ResolvedTable>;
}

/** Call once at the top of a test file; `tag` names its schemas and prefix. */
export function warehouseFixture(tag: string): WarehouseFixture {
  const run = randomBytes(3).toString('hex');
  const pgSchema = `sf_${tag}_${run}`;
  const sfSchema = `${tag.toUpperCase()}_${run.toUpperCase()}`;
  const stack = inject('stack');
  const s3 = s3Config({ prefix: `sf-${tag}-${run}` });
  const sfConfig = snowflakeSchema.parse({ ...stack.snowflake, schema: sfSchema });
  let opened:
    | {
        admin: pg.Client;
        source: PostgresSource;
        stage: S3Stage;
        snowflake: WarehousePorts;
        reader: Connection;
      }
    | undefined;
  let admin: pg.Client | undefined;
  let source: PostgresSource | undefined;
  let snowflake: WarehousePorts | undefined;
  let reader: Connection | undefined;

  beforeAll(async () => {
    admin = await pgClient();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${pgSchema}`);
    source = new PostgresSource(pgConfig());
    snowflake = openSnowflake(sfConfig, s3, { keepWarm: false });
    reader = await connect({ ...stack.snowflake, schema: sfSchema, representNullAsStringNull: false });
    opened = { admin, source, stage: new S3Stage(s3), snowflake, reader };
  });

  afterAll(async () => {
    await snowflake?.close();
    await closeSnowflakeConnections();
    if (reader) await destroy(reader);
    await source?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
    await admin?.end();
  });

  const need = () => {
    if (!opened) throw new Error('the fixture opens in beforeAll: read it inside a test');
    return opened;
  };
  return {
    pgSchema,
    sfSchema,
    s3,
    sfConfig,
    get admin() {
      return need().admin;
    },
    get source() {
      return need().source;
    },
    get stage() {
      return need().stage;
    },
    get warehouse() {
      return need().snowflake.warehouse;
    },
    get audit() {
      return need().snowflake.audit;
    },
    get leases() {
      return need().snowflake.leases;
    },
    get reader() {
      return need().reader;
    },
    async keyedTable(name) {
      const { source, snowflake } = need();
      const table = await source.resolve({
        schema: pgSchema,
        name,
        primaryKey: ['id'],
        cursorColumn: 'updated_at',
      });
      await snowflake.warehouse.bootstrap([table], 'gzip');
      return table;
    },
  };
}
