// The Snowflake adapter's sign-in, errors and audit roles against the stand-in: the administrator's script
// runs as written, the service user signs in with its key pair, each failure arrives with Snowflake's code
// as a named domain error, and the audit-writer role may insert but never change or delete a row.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { snowflakeDdl, snowflakeDdlSteps } from '../../lambdas/adapters/snowflake/ddl';
import { toWarehouseError } from '../../lambdas/adapters/snowflake/errors';
import { type SnowflakeConfig, snowflakeSchema } from '../../lambdas/config';
import { type AuditEvent, sealEvent } from '../../lambdas/domain/audit';
import type { ResolvedTable } from '../../lambdas/domain/table';
import type { WarehousePorts } from '../../lambdas/ports';
import { s3Config } from '../support/postgres';
import { type Connection, connect, destroy, exec, execError } from '../support/snowflake-client';

const run = randomBytes(3).toString('hex').toUpperCase();
const stack = inject('stack');
const s3 = s3Config({ prefix: `sf-errors-${run}` });
const SCHEMA = `ERRORS_${run}`;
const SERVICE_USER = `TALLY_SVC_${run}`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/tally-snowflake-read';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

const serviceConfig: SnowflakeConfig = snowflakeSchema.parse({
  account: stack.snowflake.account,
  accessUrl: stack.snowflake.accessUrl,
  username: SERVICE_USER,
  privateKey: keys.privateKey,
  database: stack.snowflake.database,
  schema: SCHEMA,
  warehouse: stack.snowflake.warehouse,
  role: 'TALLY_LOADER',
  storageIntegration: `TALLY_S3_${run}`,
});

const table: ResolvedTable = {
  schema: 'public',
  name: 'events',
  targetName: 'EVENTS',
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
  cursorKind: 'timestamp',
  columns: [
    { name: 'id', pgType: 'integer', category: 'N', baseType: 'int4', nullable: false },
    {
      name: 'updated_at',
      pgType: 'timestamp with time zone',
      category: 'D',
      baseType: 'timestamptz',
      nullable: false,
    },
  ],
};

let admin: Connection;
let service: WarehousePorts;

/** The adapter for a Snowflake configuration, closed when the process ends its connection. */
const open = (config: SnowflakeConfig) => openSnowflake(config, s3, { keepWarm: false });

beforeAll(async () => {
  admin = await connect({ ...stack.snowflake, role: 'ACCOUNTADMIN', schema: SCHEMA });
  for (const step of snowflakeDdlSteps({ snowflake: serviceConfig, s3 }, [table], {
    publicKey: keys.publicKey,
    awsRoleArn: ROLE_ARN,
  })) {
    await exec(admin, step.sql);
  }
  service = open(serviceConfig);
});

afterAll(async () => {
  await service?.close();
  await closeSnowflakeConnections();
  if (admin) await destroy(admin);
});

function auditEvent(prevHash: string | null, n: number): AuditEvent {
  return sealEvent(
    {
      jobId: `01JOB${run}${n}`,
      executionId: 'exec-1',
      pipelineName: 'historical',
      eventType: n === 0 ? 'start' : 'success',
      status: n === 0 ? 'RUNNING' : 'SUCCEEDED',
      sourceSystem: 'postgresql',
      targetSystem: 'snowflake',
      sourceTable: 'public.events',
      targetTable: 'EVENTS',
      windowStart: null,
      windowEnd: null,
      recordCountBefore: 10,
      rowsExported: n === 0 ? null : 10,
      files: n === 0 ? null : 1,
      bytes: n === 0 ? null : 1234,
      rowsParsed: null,
      rowsLoaded: null,
      recordCountAfter: null,
      countMatch: n === 0 ? null : true,
      jobStartTime: '2024-01-15T08:30:00.000Z',
      jobEndTime: n === 0 ? null : '2024-01-15T08:31:00.500Z',
      durationMs: n === 0 ? null : 60_500,
      errorType: null,
      errorMessage: n === 0 ? null : 'a message with \'quotes\', "doubles" and ünïcode',
      retryCount: 0,
      retryStatus: null,
      alertTriggered: false,
    },
    prevHash,
    new Date(Date.UTC(2024, 0, 15, 8, 30, n)),
  );
}

describe('the administrator script and the service user', () => {
  it('prints every statement with the reason for it, and each placeholder left to fill in at its head', () => {
    const text = snowflakeDdl({ snowflake: serviceConfig, s3 }, [table]);
    expect(text).toContain('CREATE ROLE IF NOT EXISTS "TALLY_AUDIT_WRITER";');
    expect(text).toContain(
      `GRANT INSERT, SELECT ON TABLE "${stack.snowflake.database}"."${SCHEMA}"."TALLY_AUDIT_LOG" TO ROLE "TALLY_AUDIT_WRITER";`,
    );
    expect(text).toContain('CREDIT_QUOTA = 100 FREQUENCY = MONTHLY');
    expect(text).toMatch(
      /^CREATE WAREHOUSE IF NOT EXISTS \S+ WITH WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 /m,
    );
    expect(text).not.toMatch(/PASSWORD\s*=/i);
    // Both placeholders are named before the first statement, and stand outside any quotes.
    const head = text.slice(0, text.indexOf('USE ROLE ACCOUNTADMIN;'));
    expect(head).toContain('BEFORE RUNNING: replace each of the 2 placeholder(s)');
    expect(head).toContain('--aws-role-arn');
    expect(head).toContain('--public-key-file');
    expect(text).toMatch(/STORAGE_AWS_ROLE_ARN = <<FILL IN: /);
    expect(text).toMatch(/RSA_PUBLIC_KEY = <<FILL IN: /);

    const filled = snowflakeDdl({ snowflake: serviceConfig, s3 }, [table], {
      publicKey: keys.publicKey,
      awsRoleArn: ROLE_ARN,
      monthlyCredits: 40,
    });
    expect(filled).not.toContain('FILL IN');
    expect(filled).not.toContain('BEFORE RUNNING');
    expect(filled).toContain(`STORAGE_AWS_ROLE_ARN = '${ROLE_ARN}'`);
    expect(filled).toContain('CREDIT_QUOTA = 40 ');
  });

  it('stops at a placeholder left unfilled: the statement holding it is a syntax error', async () => {
    const steps = snowflakeDdlSteps({ snowflake: serviceConfig, s3 }, [table], { publicKey: keys.publicKey });
    const unfilled = steps.filter((step) => step.sql.includes('<<FILL IN: '));
    expect(unfilled.map((step) => step.sql)).toEqual([expect.stringMatching(/^CREATE STORAGE INTEGRATION /)]);
    const err = await execError(admin, unfilled[0]?.sql ?? '');
    expect(err.code).toBe('001003');
  });

  it("gives Tally's warehouse a 60 s AUTO_SUSPEND and the resource monitor, and the loader owns the targets", async () => {
    const { rows } = await exec(admin, `SHOW WAREHOUSES LIKE '${stack.snowflake.warehouse}'`);
    expect(rows).toEqual([
      expect.objectContaining({ auto_suspend: '60', resource_monitor: 'TALLY_MONITOR' }),
    ]);
    // Only an owner (or a holder of MANAGE GRANTS, which the loader is not) may grant on a table.
    const loader = await connect({
      ...stack.snowflake,
      username: SERVICE_USER,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: keys.privateKey,
      role: 'TALLY_LOADER',
      schema: SCHEMA,
    });
    try {
      await exec(loader, 'GRANT SELECT ON TABLE EVENTS TO ROLE TALLY_AUDIT_WRITER');
      await exec(loader, 'REVOKE SELECT ON TABLE EVENTS FROM ROLE TALLY_AUDIT_WRITER');
      expect((await execError(loader, 'GRANT SELECT ON TABLE TALLY_AUDIT_LOG TO ROLE PUBLIC')).code).toBe(
        '003001',
      );
    } finally {
      await destroy(loader);
    }
  });

  it('signs the service user in with its key pair, bootstraps, and writes and reads the audit log', async () => {
    await service.warehouse.bootstrap([table], 'gzip');
    const first = auditEvent(null, 0);
    const second = auditEvent(first.rowHash, 1);
    await service.audit.insert([first]);
    await service.audit.insert([second]);
    expect(await service.audit.read({ jobId: first.jobId })).toEqual([first]);
    expect(await service.audit.read({ table: 'EVENTS' })).toEqual([first, second]);
  });

  it('lets the audit-writer role insert audit rows and refuses it UPDATE and DELETE', async () => {
    const user = `AUDIT_ONLY_${run}`;
    await exec(admin, `CREATE USER ${user} PASSWORD = 'audit-only-pw'`);
    await exec(admin, `GRANT ROLE TALLY_AUDIT_WRITER TO USER ${user}`);
    // Tally uses the role under the loader's warehouse; signed in with it alone, it needs one of its own.
    await exec(admin, `GRANT USAGE ON WAREHOUSE ${stack.snowflake.warehouse} TO ROLE TALLY_AUDIT_WRITER`);
    const writer = await connect({
      ...stack.snowflake,
      username: user,
      password: 'audit-only-pw',
      role: 'TALLY_AUDIT_WRITER',
      schema: SCHEMA,
    });
    try {
      const event = auditEvent(null, 7);
      const inserted = await exec(
        writer,
        'INSERT INTO TALLY_AUDIT_LOG (EVENT_ID, JOB_ID, EVENT_TYPE, ROW_HASH, CREATED_AT) VALUES (?, ?, ?, ?, ?)',
        [event.eventId, event.jobId, event.eventType, event.rowHash, event.createdAt],
      );
      expect(inserted.updated).toBe(1);
      const update = await execError(writer, "UPDATE TALLY_AUDIT_LOG SET STATUS = 'FORGED'");
      expect(update.code).toBe('003001');
      expect(toWarehouseError(update, 'changing the audit log').name).toBe('WarehousePermissionError');
      const remove = await execError(writer, 'DELETE FROM TALLY_AUDIT_LOG');
      expect(remove.code).toBe('003001');
    } finally {
      await destroy(writer);
    }
  });
});

describe('Snowflake errors as named domain errors', () => {
  it('refuses a private key that is not registered: 390144, WarehouseAuthError', async () => {
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const wrong = open({ ...serviceConfig, privateKey: other.privateKey });
    const err = await wrong.warehouse.count(table, { kind: 'all' }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('WarehouseAuthError');
    expect(((err as Error).cause as { code?: string }).code).toBe('390144');
    expect((err as Error).message).not.toContain('PRIVATE KEY');
  });

  it('names a missing table: 002003, WarehouseObjectMissingError', async () => {
    const missing = { ...table, targetName: 'NEVER_CREATED' };
    const err = await service.warehouse.count(missing, { kind: 'all' }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('WarehouseObjectMissingError');
    expect(((err as Error).cause as { code?: string }).code).toBe('002003');
  });

  it('names a syntax error (001003) and an invalid identifier (000904) as WarehouseSyntaxError', async () => {
    const syntax = await execError(admin, 'SELEC 1');
    expect(syntax.code).toBe('001003');
    expect(toWarehouseError(syntax, 'querying').name).toBe('WarehouseSyntaxError');
    const identifier = await execError(admin, 'SELECT NO_SUCH_COLUMN FROM TALLY_AUDIT_LOG');
    expect(identifier.code).toBe('000904');
    expect(toWarehouseError(identifier, 'querying').name).toBe('WarehouseSyntaxError');
  });

  it('names a value that does not fit its column: 100038, WarehouseConversionError', async () => {
    const stage = new S3Stage(s3);
    const key = `${s3.prefix}/bad/part-00000.csv.gz`;
    const csv = 'id,updated_at\n1,2024-01-01 00:00:00+00\nabc,2024-01-01 00:00:00+00\n';
    await stage.upload(key, Readable.from([gzipSync(csv)]));
    const err = await service.warehouse.replaceWith(table, [key]).catch((e: unknown) => e);
    expect((err as Error).name).toBe('WarehouseConversionError');
    expect(((err as Error).cause as { code?: string }).code).toBe('100038');
    expect(await service.warehouse.count(table, { kind: 'all' })).toBe(0);
  });

  it('names an unsupported statement: 000002, WarehouseError', async () => {
    const err = await execError(admin, 'CALL some_procedure()');
    expect(err.code).toBe('000002');
    const mapped = toWarehouseError(err, 'running a procedure');
    expect(mapped.name).toBe('WarehouseError');
    expect(mapped.transient).toBe(false);
  });

  it('treats a refused connection as transient: WarehouseUnavailableError', async () => {
    const closed = open({ ...serviceConfig, accessUrl: 'http://127.0.0.1:9', username: 'nobody' });
    const err = await closed.warehouse.count(table, { kind: 'all' }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('WarehouseUnavailableError');
  });
});
