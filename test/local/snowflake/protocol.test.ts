// The stand-in's HTTP side through the unmodified snowflake-sdk, with a tiny fake engine behind it so that
// these tests pin the protocol (login, tokens, binds, results, errors) and nothing of the SQL translation.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserDirectory } from '../../../local/snowflake/auth';
import {
  type Bind,
  type Engine,
  type QueryResult,
  SnowflakeSqlError,
  STATEMENT_TYPE,
} from '../../../local/snowflake/engine-types';
import { type StandInServer, startServer } from '../../../local/snowflake/server';
import { connect, connectError, destroy, exec, execError } from '../../support/snowflake-client';

const ACCOUNT = 'TALLYTEST';
const text = (name: string) =>
  ({
    name,
    type: 'text',
    nullable: true,
    precision: null,
    scale: null,
    length: 100,
    byteLength: 400,
    database: '',
    schema: '',
    table: '',
  }) as const;

/** Echoes its binds back as rows, knows one table, and fails like Snowflake for anything else. */
class FakeEngine implements Engine {
  readonly calls: { sql: string; binds: readonly Bind[]; role: string }[] = [];
  closedSessions = 0;

  async execute(sql: string, binds: readonly Bind[], session: { role: string }): Promise<QueryResult> {
    this.calls.push({ sql, binds, role: session.role });
    if (/^select binds/i.test(sql)) {
      return {
        columns: [text('TYPE'), text('VALUE')],
        rows: binds.map((b) => [b.type, JSON.stringify(b.value)]),
        statementTypeId: STATEMENT_TYPE.SELECT,
      };
    }
    if (/^select typed/i.test(sql)) {
      return {
        columns: [
          { ...text('N'), type: 'fixed', precision: 38, scale: 2 },
          { ...text('D'), type: 'date' },
          { ...text('TS'), type: 'timestamp_ntz', scale: 9 },
          { ...text('B'), type: 'binary' },
          { ...text('OK'), type: 'boolean' },
        ],
        rows: [['12.34', '19723', '1704067200.123456789', '00FF', 'TRUE']],
        statementTypeId: STATEMENT_TYPE.SELECT,
      };
    }
    if (/^insert/i.test(sql)) {
      return {
        columns: [{ ...text('number of rows inserted'), type: 'fixed', precision: 19, scale: 0 }],
        rows: [[String(Array.isArray(binds[0]?.value) ? binds[0].value.length : 1)]],
        statementTypeId: STATEMENT_TYPE.INSERT,
      };
    }
    if (/^(create|drop|grant|revoke) /i.test(sql)) {
      return { columns: [text('status')], rows: [['done']], statementTypeId: STATEMENT_TYPE.DDL };
    }
    if (/^select who/i.test(sql)) {
      return { columns: [text('ROLE')], rows: [[session.role]], statementTypeId: STATEMENT_TYPE.SELECT };
    }
    throw new SnowflakeSqlError(
      '002003',
      '42S02',
      "SQL compilation error:\nObject 'DB.PUBLIC.NOPE' does not exist or not authorized.",
    );
  }
  async closeSession(): Promise<void> {
    this.closedSessions += 1;
  }
  async close(): Promise<void> {}
}

function keyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

describe('the Snowflake stand-in protocol', () => {
  const engine = new FakeEngine();
  const directory = new UserDirectory(ACCOUNT);
  const keys = keyPair();
  let server: StandInServer;
  let base: { accessUrl: string; account: string; username: string; password: string };

  beforeAll(async () => {
    directory.addUser({
      name: 'tally',
      password: 'secret-pw',
      roles: ['ACCOUNTADMIN'],
      publicKeys: [keys.publicKey],
    });
    server = await startServer({
      engine,
      directory,
      defaults: { database: 'TALLY', schema: 'PUBLIC', warehouse: 'LOCAL_WH' },
    });
    base = { accessUrl: server.url, account: ACCOUNT, username: 'tally', password: 'secret-pw' };
  });
  afterAll(() => server.close());

  it('logs in with a password and runs a statement in the requested namespace', async () => {
    const conn = await connect({ ...base, database: 'db1', schema: 'sch' });
    const { rows } = await exec(conn, 'select who');
    expect(rows).toEqual([{ ROLE: 'ACCOUNTADMIN' }]);
    await destroy(conn);
  });

  it('refuses a wrong password with 390100', async () => {
    const err = await connectError({ ...base, password: 'wrong' });
    expect(err.code).toBe('390100');
    expect(err.message).not.toContain('wrong');
  });

  it('logs in with a registered key pair', async () => {
    const { password: _unused, ...noPassword } = base;
    const conn = await connect({
      ...noPassword,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: keys.privateKey,
    });
    expect((await exec(conn, 'select who')).rows).toHaveLength(1);
    await destroy(conn);
  });

  it('refuses a private key that is not registered with 390144', async () => {
    const { password: _unused, ...noPassword } = base;
    const err = await connectError({
      ...noPassword,
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: keyPair().privateKey,
    });
    expect(err.code).toBe('390144');
    expect(err.sqlState).toBe('08001');
  });

  it('refuses a role that is not granted to the user', async () => {
    const err = await connectError({ ...base, role: 'SOMEONE_ELSE' });
    expect(err.code).toBe('390189');
  });

  it('refuses requests without a session token or with an unknown one', async () => {
    const body = JSON.stringify({ sqlText: 'select who' });
    const missing = await fetch(`${server.url}/queries/v1/query-request`, { method: 'POST', body });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { code: string }).code).toBe('390101');
    const unknown = await fetch(`${server.url}/queries/v1/query-request`, {
      method: 'POST',
      body,
      headers: { authorization: 'Snowflake Token="not-a-token"' },
    });
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { code: string }).code).toBe('390104');
  });

  it('passes positional and array binds to the engine as the driver sends them', async () => {
    const conn = await connect(base);
    const { rows } = await exec(conn, 'select binds ?, ?, ?, ?', [1, 'two', null, true]);
    expect(rows).toEqual([
      { TYPE: 'FIXED', VALUE: '"1"' },
      { TYPE: 'TEXT', VALUE: '"two"' },
      { TYPE: 'TEXT', VALUE: 'null' },
      { TYPE: 'BOOLEAN', VALUE: '"true"' },
    ]);
    const inserted = await exec(conn, 'insert into t values (?, ?)', [
      [1, 'a'],
      [2, null],
      [3, 'c'],
    ]);
    expect(inserted.updated).toBe(3);
    expect(engine.calls.at(-1)?.binds).toEqual([
      { type: 'FIXED', value: ['1', '2', '3'] },
      { type: 'TEXT', value: ['a', null, 'c'] },
    ]);
    await destroy(conn);
  });

  it('encodes typed results so the driver decodes numbers, dates, timestamps, binaries and booleans', async () => {
    const conn = await connect(base);
    const [row] = (await exec(conn, 'select typed')).rows;
    expect(row?.N).toBe(12.34);
    expect((row?.D as Date | undefined)?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    const ts = row?.TS as Date & { getNanoSeconds(): number };
    expect(ts.getNanoSeconds()).toBe(123456789);
    expect(Buffer.from(row?.B as Buffer).toString('hex')).toBe('00ff');
    expect(row?.OK).toBe(true);
    await destroy(conn);
  });

  it("answers SQL errors with Snowflake's code and SQL state", async () => {
    const conn = await connect(base);
    const err = await execError(conn, 'select * from nope');
    expect(err.code).toBe('002003');
    expect(err.sqlState).toBe('42S02');
    await destroy(conn);
  });

  it('keeps results fetchable by query id and reports their status', async () => {
    const conn = await connect(base);
    const { queryId } = await exec(conn, 'select who');
    expect(queryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await conn.getQueryStatus(queryId)).toBe('SUCCESS');
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      conn.fetchResult({ queryId, complete: (err, _s, r) => (err ? reject(err) : resolve(r ?? [])) }),
    );
    expect(rows).toEqual([{ ROLE: 'ACCOUNTADMIN' }]);
    await destroy(conn);
  });

  it('runs asynchronous statements and serves their results', async () => {
    const conn = await connect(base);
    const started = await exec(conn, 'select who', undefined, { asyncExec: true });
    const results = await conn.getResultsFromQueryId({ queryId: started.queryId });
    expect(results.getQueryId()).toBe(started.queryId);
    expect(await conn.getQueryStatus(started.queryId)).toBe('SUCCESS');
    await destroy(conn);
  });

  it('answers heartbeats and closes the session on destroy', async () => {
    const conn = await connect(base);
    expect(await conn.isValidAsync()).toBe(true);
    const closedBefore = engine.closedSessions;
    await destroy(conn);
    expect(engine.closedSessions).toBe(closedBefore + 1);
  });

  it('keeps session parameters set with ALTER SESSION in every response', async () => {
    const conn = await connect(base);
    await exec(conn, "alter session set TIMESTAMP_NTZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9'");
    const [row] = (await exec(conn, 'select typed', undefined, { fetchAsString: ['Date'] })).rows;
    expect(row?.TS).toBe('2024-01-01 00:00:00.123456789');
    await destroy(conn);
  });

  it('creates users with SQL and lets them log in with their key and granted role', async () => {
    const admin = await connect(base);
    const userKeys = keyPair();
    const body = userKeys.publicKey.replace(/-----[A-Z ]+-----|\s/g, '');
    await exec(admin, `create user if not exists svc_loader type = service rsa_public_key = '${body}'`);
    await exec(admin, 'grant role loader to user svc_loader');
    await destroy(admin);
    const conn = await connect({
      accessUrl: server.url,
      account: ACCOUNT,
      username: 'svc_loader',
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: userKeys.privateKey,
      role: 'LOADER',
    });
    expect((await exec(conn, 'select who')).rows).toEqual([{ ROLE: 'LOADER' }]);
    const err = await execError(conn, 'create user intruder');
    expect(err.code).toBe('003001');
    await destroy(conn);
  });
});

describe('session token renewal', () => {
  it('renews an expired session token with the master token and carries on', async () => {
    const directory = new UserDirectory(ACCOUNT);
    directory.addUser({ name: 'tally', password: 'pw', roles: ['SYSADMIN'] });
    const server = await startServer({
      engine: new FakeEngine(),
      directory,
      defaults: { database: 'TALLY', schema: 'PUBLIC', warehouse: 'WH' },
      sessionValiditySeconds: 1,
    });
    try {
      const conn = await connect({
        accessUrl: server.url,
        account: ACCOUNT,
        username: 'tally',
        password: 'pw',
      });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await exec(conn, 'select who')).rows).toEqual([{ ROLE: 'SYSADMIN' }]);
      expect(server.stats.renewals).toBe(1);
      await destroy(conn);
    } finally {
      await server.close();
    }
  });
});
