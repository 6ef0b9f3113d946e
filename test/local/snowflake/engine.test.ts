// The stand-in's SQL engine called directly: DDL, binds, wire encoding, DML result rows, errors,
// transactions, grants and persistence across a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../../local/snowflake/engine';
import type { Bind, Engine, QueryResult, SessionState } from '../../../local/snowflake/engine-types';

const s3 = {
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  accessKeyId: 'x',
  secretAccessKey: 'y',
  forcePathStyle: true,
};

let dir: string;
let engine: Engine;
let counter = 0;

function session(role = 'SYSADMIN', user = 'ADMIN'): SessionState {
  counter++;
  return {
    id: `s${counter}`,
    user,
    role,
    database: 'TALLY',
    schema: 'PUBLIC',
    warehouse: 'WH',
    transaction: null,
  };
}

async function open(): Promise<Engine> {
  return createEngine({
    file: path.join(dir, 'sf.duckdb'),
    s3,
    defaultDatabase: 'TALLY',
    defaultSchema: 'PUBLIC',
    defaultWarehouse: 'WH',
  });
}

function text(v: string | null): Bind {
  return { type: 'TEXT', value: v };
}

async function run(s: SessionState, sql: string, binds: Bind[] = []): Promise<QueryResult> {
  return engine.execute(sql, binds, s);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sf-engine-'));
  engine = await open();
});

afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('DDL, INSERT and SELECT', () => {
  it('creates a table with Snowflake types and reports them back with wire-encoded values', async () => {
    const s = session();
    const created = await run(
      s,
      `create table t (id number(38,0) primary key, amount number(12,2), name varchar, ok boolean, d date, tm time,
        ntz timestamp_ntz, ltz timestamp_ltz, tz timestamp_tz, v variant, b binary, f float, unique (name))`,
    );
    expect(created.rows).toEqual([['Table T successfully created.']]);
    expect(created.columns.map((c) => c.name)).toEqual(['status']);
    const inserted = await run(
      s,
      'insert into t values (?, ?, ?, ?, ?, ?, ?, ?, ?, parse_json(?), to_binary(?), ?)',
      [
        { type: 'FIXED', value: '1' },
        { type: 'TEXT', value: '-12.5' },
        text("it's"),
        { type: 'BOOLEAN', value: 'true' },
        text('2024-01-02'),
        text('01:02:03.5'),
        text('2024-01-01 00:00:00.123456'),
        text('2024-01-01T00:00:00.000Z'),
        text('2024-01-01 01:00:00+01:00'),
        text('{"a":[1,2]}'),
        text('ab01'),
        { type: 'REAL', value: 'Infinity' },
      ],
    );
    expect(inserted.rows).toEqual([['1']]);
    expect(inserted.columns[0]?.name).toBe('number of rows inserted');
    const r = await run(s, 'select id, amount, name, ok, d, tm, ntz, ltz, tz, v, b, f from t');
    expect(r.columns.map((c) => c.type)).toEqual([
      'fixed',
      'fixed',
      'text',
      'boolean',
      'date',
      'time',
      'timestamp_ntz',
      'timestamp_ltz',
      'timestamp_tz',
      'variant',
      'binary',
      'real',
    ]);
    expect(r.columns[1]).toMatchObject({
      precision: 12,
      scale: 2,
      database: 'TALLY',
      schema: 'PUBLIC',
      table: 'T',
    });
    expect(r.rows).toEqual([
      [
        '1',
        '-12.50',
        "it's",
        'TRUE',
        '19724',
        '3723.500000000',
        '1704067200.123456000',
        '1704067200.000000000',
        '1704067200.000000000 1440',
        '{"a":[1,2]}',
        'AB01',
        'inf',
      ],
    ]);
  });

  it('uppercases unquoted identifiers and keeps quoted ones', async () => {
    const s = session();
    await run(s, 'create table Mixed (Id int, "lower" varchar)');
    await run(s, 'insert into MIXED (id, "lower") values (1, \'x\')');
    const r = await run(s, 'select id, "lower" from tally.public.mixed');
    expect(r.columns.map((c) => c.name)).toEqual(['ID', 'lower']);
  });

  it('names computed columns as Snowflake does and counts', async () => {
    const s = session();
    await run(s, 'create table n (x int)');
    await run(s, 'insert into n (x) values (?)', [{ type: 'FIXED', value: ['1', '2', '3'] }]);
    const r = await run(s, 'select count(*), max(x) as top, sum(x) from n where x >= :1', [
      { type: 'FIXED', value: '2' },
    ]);
    expect(r.columns.map((c) => c.name)).toEqual(['COUNT(*)', 'TOP', 'SUM(X)']);
    expect(r.rows).toEqual([['2', '3', '5']]);
  });

  it('never rewrites string literals, comments or quoted names, and treats bind values as data', async () => {
    const s = session();
    await run(s, 'create table "Odd Name" ("a b" varchar) -- trailing comment');
    await run(s, `insert into "Odd Name" values ('select -- not a comment; it''s'), (:1) /* block */`, [
      text('x\'); drop table "Odd Name"; --'),
    ]);
    const r = await run(s, 'select "a b" from "Odd Name" order by 1');
    expect(r.columns[0]?.name).toBe('a b');
    expect(r.rows).toEqual([["select -- not a comment; it's"], ['x\'); drop table "Odd Name"; --']]);
  });

  it('inserts one row per element of array binds', async () => {
    const s = session();
    await run(s, 'create table a (id int, name string)');
    const r = await run(s, 'insert into a (id, name) values (?, ?)', [
      { type: 'FIXED', value: ['1', '2'] },
      { type: 'TEXT', value: ['x', null] },
    ]);
    expect(r.rows).toEqual([['2']]);
    expect((await run(s, 'select name from a order by id')).rows).toEqual([['x'], [null]]);
  });

  it('answers UPDATE and DELETE with Snowflake result rows', async () => {
    const s = session();
    await run(s, 'create table u (id int, v int)');
    await run(s, 'insert into u values (1, 1), (2, 2), (3, 3)');
    const up = await run(s, 'update u set v = v + 10 where id > 1');
    expect(up.columns.map((c) => c.name)).toEqual([
      'number of rows updated',
      'number of multi-joined rows updated',
    ]);
    expect(up.rows).toEqual([['2', '0']]);
    const del = await run(s, 'delete from u where id = 1');
    expect(del.columns.map((c) => c.name)).toEqual(['number of rows deleted']);
    expect(del.rows).toEqual([['1']]);
  });

  it('supports CREATE DATABASE, SCHEMA, USE and three-part names', async () => {
    const s = session();
    expect((await run(s, 'create database other')).rows).toEqual([['Database OTHER successfully created.']]);
    expect(s.database).toBe('OTHER');
    await run(s, 'create schema if not exists raw');
    await run(s, 'create table other.raw.t (x int)');
    await run(s, 'use database tally');
    await run(s, 'insert into other.raw.t values (7)');
    await run(s, 'use schema other.raw');
    expect((await run(s, 'select x from t')).rows).toEqual([['7']]);
    const again = await run(s, 'create table if not exists t (x int)');
    expect(again.rows).toEqual([['T already exists, statement succeeded.']]);
  });

  it('creates a table LIKE another, keeping declared types', async () => {
    const s = session();
    await run(s, 'create table src (ts timestamp_tz, v object)');
    await run(s, 'create transient table dst like src');
    await run(s, "insert into dst select '2024-01-01 00:00:00+00', parse_json('{}')");
    const r = await run(s, 'select ts, v from dst');
    expect(r.columns.map((c) => c.type)).toEqual(['timestamp_tz', 'object']);
  });

  it('keeps data across close and reopen', async () => {
    const s = session();
    await run(s, 'create database keep');
    await run(s, 'create table k (x varchar)');
    await run(s, "insert into k values ('persisted')");
    await engine.close();
    engine = await open();
    const s2 = session();
    const r = await run(s2, 'select x from keep.public.k');
    expect(r.rows).toEqual([['persisted']]);
  });
});

describe('errors', () => {
  it('reports a missing table as 002003 with its qualified name', async () => {
    await expect(run(session(), 'select * from nope')).rejects.toMatchObject({
      code: '002003',
      sqlState: '42S02',
      message: "SQL compilation error:\nObject 'TALLY.PUBLIC.NOPE' does not exist or not authorized.",
    });
  });

  it.each([
    { what: 'a syntax error', setup: [], sql: 'selec 1', code: '001003', sqlState: '42000' },
    { what: 'a syntax error', setup: [], sql: 'select from where', code: '001003', sqlState: '42000' },
    {
      what: 'an unknown column',
      setup: ['create table c (x int)'],
      sql: 'select y from c',
      code: '000904',
      sqlState: '42000',
    },
    {
      what: 'an existing table',
      setup: ['create table e (x int)'],
      sql: 'create table e (x int)',
      code: '002002',
      sqlState: '42710',
    },
    {
      what: 'a bad number',
      setup: ['create table b (x number(10,0))'],
      sql: "insert into b values ('abc')",
      code: '100038',
      sqlState: '22018',
    },
  ])('reports $what as $code ($sql)', async ({ setup, sql, code, sqlState }) => {
    const s = session();
    for (const statement of setup) await run(s, statement);
    await expect(run(s, sql)).rejects.toMatchObject({ code, sqlState });
  });

  it('refuses unsupported statements by name instead of succeeding', async () => {
    await expect(run(session(), 'create pipe p as copy into t from @s')).rejects.toMatchObject({
      code: '000002',
      sqlState: '0A000',
      message: expect.stringMatching(/^not supported by the local Snowflake stand-in: CREATE PIPE/),
    });
    await expect(run(session(), 'alter table x rename to y')).rejects.toMatchObject({
      message: expect.stringMatching(/^not supported by the local Snowflake stand-in: ALTER TABLE/),
    });
  });

  it('accepts ALTER SESSION SET as a no-op', async () => {
    const r = await run(session(), "alter session set timezone = 'UTC'");
    expect(r.rows).toEqual([['Statement executed successfully.']]);
  });
});

describe('MERGE', () => {
  it('inserts the new rows, updates the matched ones and says how many of each', async () => {
    const s = session();
    await run(s, 'create table tgt (id int primary key, v varchar)');
    await run(s, "insert into tgt values (1, 'old'), (2, 'same')");
    await run(s, 'create transient table stg (id int, v varchar)');
    await run(s, "insert into stg values (1, 'new'), (3, 'added')");
    const r = await run(
      s,
      `merge into tgt t using (select id, v from stg) s on t.id = s.id
       when matched then update set v = s.v
       when not matched then insert (id, v) values (s.id, s.v)`,
    );
    expect(r.columns.map((c) => c.name)).toEqual(['number of rows inserted', 'number of rows updated']);
    expect(r.rows).toEqual([['1', '1']]);
    expect((await run(s, 'select id, v from tgt order by id')).rows).toEqual([
      ['1', 'new'],
      ['2', 'same'],
      ['3', 'added'],
    ]);
  });

  it('reports only the clauses present', async () => {
    const s = session();
    await run(s, 'create table only_ins (id int)');
    const r = await run(
      s,
      'merge into only_ins t using (select 5 as id) s on t.id = s.id when not matched then insert (id) values (s.id)',
    );
    expect(r.columns.map((c) => c.name)).toEqual(['number of rows inserted']);
    expect(r.rows).toEqual([['1']]);
  });

  it('refuses a target row matched by two source rows with 100090 and changes nothing', async () => {
    const s = session();
    await run(s, 'create table dup (id int, v int)');
    await run(s, 'insert into dup values (1, 0)');
    await expect(
      run(
        s,
        'merge into dup using (select 1 as id, 10 as v union all select 1, 20) src on dup.id = src.id when matched then update set v = src.v when not matched then insert values (src.id, src.v)',
      ),
    ).rejects.toMatchObject({ code: '100090', sqlState: '42P18' });
    expect((await run(s, 'select v from dup')).rows).toEqual([['0']]);
  });
});

describe('transactions', () => {
  it('rolls back only the failed statement inside a transaction', async () => {
    const s = session();
    await run(s, 'create table tx (id number(5,0))');
    await run(s, 'begin');
    await run(s, 'insert into tx values (1)');
    await expect(run(s, "insert into tx values ('bad')")).rejects.toThrow();
    await run(s, 'insert into tx values (2)');
    await run(s, 'commit');
    expect((await run(s, 'select id from tx order by id')).rows).toEqual([['1'], ['2']]);
  });

  it('discards everything on ROLLBACK and hides uncommitted rows from other sessions', async () => {
    const a = session();
    const b = session();
    await run(a, 'create table iso (id int)');
    await run(a, 'start transaction');
    await run(a, 'insert into iso values (1)');
    expect((await run(b, 'select count(*) from iso')).rows).toEqual([['0']]);
    expect(a.transaction).not.toBeNull();
    await run(a, 'rollback');
    expect(a.transaction).toBeNull();
    expect((await run(a, 'select count(*) from iso')).rows).toEqual([['0']]);
  });

  it('commits an open transaction when DDL runs', async () => {
    const a = session();
    const b = session();
    await run(a, 'create table ddl_commit (id int)');
    await run(a, 'begin');
    await run(a, 'insert into ddl_commit values (1)');
    await run(a, 'create table other_table (x int)');
    await run(a, 'rollback');
    expect((await run(b, 'select count(*) from ddl_commit')).rows).toEqual([['1']]);
  });

  it('rolls back an open transaction when the session closes', async () => {
    const a = session();
    await run(a, 'create table closing (id int)');
    await run(a, 'begin');
    await run(a, 'insert into closing values (1)');
    await engine.closeSession(a);
    expect((await run(session(), 'select count(*) from closing')).rows).toEqual([['0']]);
  });

  it('serves many sessions at once without losing a row', async () => {
    const setup = session();
    await run(setup, 'create table many (id int, who varchar)');
    const sessions = Array.from({ length: 8 }, () => session());
    await Promise.all(
      sessions.map(async (s, i) => {
        for (let k = 0; k < 5; k++)
          await run(s, 'insert into many values (?, ?)', [{ type: 'FIXED', value: String(k) }, text(s.id)]);
        if (i % 2 === 0) {
          await run(s, 'begin');
          await run(s, 'insert into many values (99, ?)', [text(s.id)]);
          await run(s, 'commit');
        }
      }),
    );
    expect((await run(setup, 'select count(*) from many')).rows).toEqual([['44']]);
  });
});

describe('grants', () => {
  async function auditSetup(): Promise<SessionState> {
    const admin = session('ACCOUNTADMIN');
    await run(admin, 'create table audit_log (event_id varchar, status varchar)');
    await run(admin, 'create role if not exists audit_writer');
    await run(admin, 'create user if not exists writer_svc');
    await run(admin, 'grant usage on database tally to role audit_writer');
    await run(admin, 'grant usage on schema tally.public to role audit_writer');
    await run(admin, 'grant usage on warehouse wh to role audit_writer');
    await run(admin, 'grant insert, select on table tally.public.audit_log to role audit_writer');
    await run(admin, 'grant role audit_writer to user writer_svc');
    await run(admin, "insert into audit_log values ('e0', 'start')");
    return session('AUDIT_WRITER', 'WRITER_SVC');
  }

  it('lets an INSERT-only role insert and read the audit table', async () => {
    const writer = await auditSetup();
    await run(writer, 'insert into audit_log values (?, ?)', [text('e1'), text('success')]);
    expect((await run(writer, 'select count(*) from audit_log')).rows).toEqual([['2']]);
  });

  it('refuses UPDATE, DELETE, TRUNCATE and MERGE to an INSERT-only role with 003001', async () => {
    const writer = await auditSetup();
    for (const sql of [
      "update audit_log set status = 'x'",
      'delete from audit_log',
      'truncate table audit_log',
      "merge into audit_log a using (select 'e0' as id) s on a.event_id = s.id when matched then update set status = 'x'",
    ]) {
      await expect(run(writer, sql)).rejects.toMatchObject({
        code: '003001',
        sqlState: '42501',
        message: "SQL access control error:\nInsufficient privileges to operate on table 'AUDIT_LOG'",
      });
    }
    expect((await run(session('ACCOUNTADMIN'), 'select status from audit_log')).rows).toEqual([['start']]);
  });

  it('hides tables from a role with no grant on them', async () => {
    const writer = await auditSetup();
    await run(session('SYSADMIN'), 'create table secret (x int)');
    await expect(run(writer, 'select * from secret')).rejects.toMatchObject({ code: '002003' });
    await expect(run(writer, 'insert into secret values (1)')).rejects.toMatchObject({ code: '002003' });
  });

  it('switches roles with USE ROLE and honours grants on all tables in a schema', async () => {
    const admin = session('ACCOUNTADMIN');
    await run(admin, 'create table loadable (x int)');
    await run(admin, 'create role loader');
    for (const grant of ['database tally', 'schema tally.public', 'warehouse wh']) {
      await run(admin, `grant usage on ${grant} to role loader`);
    }
    await run(
      admin,
      'grant select, insert, update, delete on all tables in schema tally.public to role loader',
    );
    const s = session('PUBLIC');
    await expect(run(s, 'select * from loadable')).rejects.toMatchObject({ code: '002003' });
    await run(s, 'use role loader');
    await run(s, 'insert into loadable values (1)');
    expect((await run(s, 'update loadable set x = 2')).rows).toEqual([['1', '0']]);
    await expect(run(s, 'use role nobody')).rejects.toMatchObject({ code: '002003' });
  });
});

describe('session statements', () => {
  it('describes a table with its declared types and lists tables', async () => {
    const s = session();
    await run(s, 'create table described (id number(10,2) not null, ts timestamp_ltz)');
    const d = await run(s, 'describe table described');
    expect(d.rows.map((r) => [r[0], r[1], r[3]])).toEqual([
      ['ID', 'NUMBER(10,2)', 'N'],
      ['TS', 'TIMESTAMP_LTZ(9)', 'Y'],
    ]);
    const shown = await run(s, "show tables like 'DESCR%'");
    expect(shown.rows.map((r) => r[0])).toEqual(['DESCRIBED']);
  });

  it('answers CURRENT_DATABASE, CURRENT_ROLE and CURRENT_TIMESTAMP', async () => {
    const r = await run(session(), 'select current_database(), current_role(), current_timestamp() as now');
    expect(r.rows[0]?.slice(0, 2)).toEqual(['TALLY', 'SYSADMIN']);
    expect(r.columns[2]?.type).toBe('timestamp_ltz');
  });
});
