// The bootstrap against a Snowflake stand-in of its own, every statement it receives recorded: it makes
// what Tally's schema lacks, brings up to date a file format or stage made to another definition (as an
// earlier Tally made them), and once everything is in place reads the schema and changes nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { snowflakeSchema } from '../../lambdas/config';
import type { ResolvedTable } from '../../lambdas/domain/table';
import type { WarehousePorts } from '../../lambdas/ports';
import { type LocalSnowflake, startSnowflake } from '../../local/snowflake';
import { StatementFaults } from '../support/faults/statement-faults';
import { s3Config } from '../support/postgres';
import { type Connection, connect, destroy, exec } from '../support/snowflake-client';

const stack = inject('stack');
const statements = new StatementFaults();
const s3 = s3Config({ prefix: `bootstrap-${process.pid}` });
let snowflake: LocalSnowflake;
let warehouse: WarehousePorts;
let admin: Connection;

const ORDERS: ResolvedTable = {
  schema: 'public',
  name: 'orders',
  targetName: 'ORDERS',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
  cursorKind: 'timestamp',
  columns: [
    { name: 'id', pgType: 'integer', baseType: 'int4', category: 'N', nullable: false },
    {
      name: 'updated_at',
      pgType: 'timestamp with time zone',
      baseType: 'timestamptz',
      category: 'D',
      nullable: false,
    },
  ],
};

/** The statements the stand-in received while `work` ran. */
async function statementsOf(work: () => Promise<void>): Promise<string[]> {
  statements.clear();
  statements.hits.length = 0;
  // A fault that answers as usual: it only records each statement.
  statements.add({ match: /^/ });
  await work();
  statements.clear();
  return [...statements.hits];
}

async function comments(kind: 'FILE FORMATS' | 'STAGES'): Promise<string[]> {
  const { rows } = await exec(admin, `SHOW ${kind} IN SCHEMA ${snowflake.database}.TALLY_BOOT`);
  return rows.map((r) => String(r.comment));
}

beforeAll(async () => {
  snowflake = await startSnowflake({ s3: stack.s3, statementHook: statements.hook });
  const config = snowflakeSchema.parse({
    accessUrl: snowflake.accessUrl,
    account: snowflake.account,
    username: snowflake.username,
    password: snowflake.password,
    database: snowflake.database,
    schema: 'TALLY_BOOT',
    warehouse: snowflake.warehouse,
    role: snowflake.role,
  });
  warehouse = openSnowflake(config, s3, { keepWarm: false });
  admin = await connect({
    accessUrl: snowflake.accessUrl,
    account: snowflake.account,
    username: snowflake.username,
    password: snowflake.password,
    database: snowflake.database,
    schema: snowflake.schema,
  });
});

afterAll(async () => {
  await warehouse?.close();
  await closeSnowflakeConnections();
  if (admin) await destroy(admin);
  await snowflake?.stop();
});

describe('the Snowflake bootstrap', () => {
  it("makes a new schema's file format, stage and tables, and once they are in place only reads the schema", async () => {
    const first = await statementsOf(() => warehouse.warehouse.bootstrap([ORDERS], 'gzip'));
    expect(first.filter((s) => s.startsWith('CREATE'))).toEqual([
      expect.stringMatching(/^CREATE SCHEMA IF NOT EXISTS /),
      expect.stringMatching(/^CREATE OR REPLACE FILE FORMAT .*ESCAPE_UNENCLOSED_FIELD = NONE/),
      expect.stringMatching(/^CREATE OR REPLACE STAGE /),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS \S+"TALLY_AUDIT_LOG"/),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS \S+"ORDERS"/),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS \S+"TALLY_LOCKS"/),
    ]);
    const again = await statementsOf(() => warehouse.warehouse.bootstrap([ORDERS], 'gzip'));
    expect(again.length).toBeGreaterThan(0);
    expect(again.filter((s) => !s.startsWith('SHOW '))).toEqual([]);
  });

  it('replaces a file format and a stage made to another definition, as an earlier Tally made them', async () => {
    await warehouse.warehouse.bootstrap([ORDERS], 'gzip');
    // What an earlier Tally made: no ESCAPE_UNENCLOSED_FIELD (Snowflake's default backslash then applies),
    // created IF NOT EXISTS, and a stage on another prefix.
    await exec(
      admin,
      `CREATE OR REPLACE FILE FORMAT TALLY_BOOT.TALLY_CSV TYPE = CSV COMPRESSION = GZIP SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '"'`,
    );
    await exec(
      admin,
      `CREATE OR REPLACE STAGE TALLY_BOOT.TALLY_STAGE URL = 's3://${s3.bucket}/elsewhere/' FILE_FORMAT = (FORMAT_NAME = 'TALLY_BOOT.TALLY_CSV')`,
    );
    const ran = await statementsOf(() => warehouse.warehouse.bootstrap([ORDERS], 'gzip'));
    expect(ran.filter((s) => !s.startsWith('SHOW '))).toEqual([
      expect.stringMatching(/^CREATE OR REPLACE FILE FORMAT /),
      expect.stringMatching(/^CREATE OR REPLACE STAGE /),
    ]);
    expect(await comments('FILE FORMATS')).toEqual([expect.stringMatching(/\(tally:[0-9a-f]{16}\)$/)]);
    const [stage] = (await exec(admin, 'SHOW STAGES IN SCHEMA TALLY_BOOT')).rows;
    expect(stage?.url).toBe(`s3://${s3.bucket}/${s3.prefix}/`);
  });

  it('makes a table that went missing, and only that', async () => {
    await warehouse.warehouse.bootstrap([ORDERS], 'gzip');
    await exec(admin, 'DROP TABLE TALLY_BOOT.ORDERS');
    const ran = await statementsOf(() => warehouse.warehouse.bootstrap([ORDERS], 'gzip'));
    expect(ran.filter((s) => !s.startsWith('SHOW '))).toEqual([
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS \S+"ORDERS"/),
    ]);
  });
});
