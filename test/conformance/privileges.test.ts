// Access control against Snowflake's documentation: the CREATE privileges (IF NOT EXISTS included), USAGE on the
// database, schema, warehouse, stage, file format and storage integration, table privileges, owners and grants,
// and GRANT OWNERSHIP with the object's other grants copied, revoked or in the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionState } from '../../local/snowflake/engine-types';
import { COPY, CREATE_SCHEMA, CREATE_TABLE, GRANT_OWNERSHIP, OVERVIEW, PRIVILEGES } from './docs';
import { eachCase, type Harness, startHarness } from './harness';

let h: Harness;
let admin: SessionState;
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  admin = h.session('ACCOUNTADMIN');
  await h.run("create file format csv type = csv field_optionally_enclosed_by = '\"'", admin);
  await h.run('create table loaded (id number, v varchar)', admin);
  await h.put('privileges/1.csv', '1,a\n');
  // A stage whose owner no longer holds USAGE on its integration, so that a COPY needs its own.
  await h.run('create role stage_owner', admin);
  for (const g of [
    'usage on database tally',
    'usage on schema tally.public',
    'create stage on schema tally.public',
    'usage on integration s3_int',
  ]) {
    await h.run(`grant ${g} to role stage_owner`, admin);
  }
  await h.run(
    `create stage bare url = 's3://${h.bucket}/${h.prefix}' storage_integration = s3_int`,
    h.session('STAGE_OWNER'),
  );
  await h.run('revoke usage on integration s3_int from role stage_owner', admin);
});

afterAll(async () => {
  await h.close();
});

/** A new role with USAGE on TALLY, TALLY.PUBLIC and WH unless told otherwise, and a session in it. */
async function roleWith(
  grants: readonly string[],
  base = ['database tally', 'schema tally.public', 'warehouse wh'],
) {
  const role = `ROLE_${++n}`;
  await h.run(`create role ${role}`, admin);
  for (const on of base) await h.run(`grant usage on ${on} to role ${role}`, admin);
  for (const g of grants) await h.run(`grant ${g} to role ${role}`, admin);
  return h.session(role);
}

const copy =
  "copy into tally.public.loaded from @tally.public.bare/privileges/ file_format = (format_name = 'tally.public.csv') force = true";

describe('CREATE ... IF NOT EXISTS needs the CREATE privilege even when the object exists', () => {
  eachCase(
    [
      {
        what: 'CREATE SCHEMA on the database',
        doc: CREATE_SCHEMA,
        sql: 'create schema if not exists tally.public',
        grant: 'create schema on database tally',
      },
      {
        what: 'CREATE TABLE on the schema',
        doc: CREATE_TABLE,
        sql: 'create table if not exists loaded (id number, v varchar)',
        grant: 'create table on schema tally.public',
      },
      {
        what: 'CREATE STAGE on the schema',
        doc: PRIVILEGES,
        sql: "create stage if not exists st url = 's3://x/'",
        grant: 'create stage on schema tally.public',
      },
      {
        what: 'CREATE FILE FORMAT on the schema',
        doc: PRIVILEGES,
        sql: 'create file format if not exists csv type = csv',
        grant: 'create file format on schema tally.public',
      },
    ],
    (c) => `${c.what} (${c.doc})`,
    async ({ sql, grant }) => {
      const without = await roleWith([]);
      await expect(h.run(sql, without)).rejects.toMatchObject({ code: '003001', sqlState: '42501' });
      const granted = await roleWith([
        grant,
        ...(grant.includes('stage') ? ['usage on integration s3_int'] : []),
      ]);
      expect((await h.run(sql, granted)).rows[0]?.[0]).toMatch(/already exists, statement succeeded/);
    },
  );
});

describe('COPY from an external stage', () => {
  const all = [
    'usage on stage tally.public.bare',
    'usage on file format tally.public.csv',
    'usage on integration s3_int',
    'insert on table tally.public.loaded',
  ];

  it(`loads with USAGE on the stage, the file format and the integration, and INSERT on the table (${COPY})`, async () => {
    const loader = await roleWith(all);
    expect((await h.run(copy, loader)).rows[0]?.[1]).toBe('LOADED');
  });

  eachCase(
    [
      { missing: 'usage on stage tally.public.bare', code: '002003', doc: PRIVILEGES },
      { missing: 'usage on file format tally.public.csv', code: '002003', doc: PRIVILEGES },
      { missing: 'usage on integration s3_int', code: '003001', doc: COPY },
      { missing: 'insert on table tally.public.loaded', code: '002003', doc: PRIVILEGES },
    ],
    (c) => `is refused without ${c.missing} (${c.doc})`,
    async ({ missing, code }) => {
      const role = await roleWith(all.filter((g) => g !== missing));
      await expect(h.run(copy, role)).rejects.toMatchObject({ code });
    },
  );

  it(`needs no USAGE on the integration when the stage's owner holds it (${PRIVILEGES})`, async () => {
    const owner = await roleWith(['create stage on schema tally.public', 'usage on integration s3_int']);
    await h.run(
      `create stage owned url = 's3://${h.bucket}/${h.prefix}' storage_integration = s3_int`,
      owner,
    );
    await h.run(`grant usage on stage tally.public.owned to role ${owner.role}`, admin);
    const loader = await roleWith([
      'usage on file format tally.public.csv',
      'insert on table tally.public.loaded',
    ]);
    await h.run(`grant usage on stage tally.public.owned to role ${loader.role}`, owner);
    const copyOwned = copy.replace('@tally.public.bare/', '@tally.public.owned/');
    expect((await h.run(copyOwned, loader)).rows[0]?.[1]).toBe('LOADED');
  });
});

describe('USAGE on the database, schema and warehouse', () => {
  eachCase(
    [
      { missing: 'database tally', code: '002003' },
      { missing: 'schema tally.public', code: '002003' },
      { missing: 'warehouse wh', code: '000606' },
    ],
    (c) => `is required to query a table: without USAGE on the ${c.missing}, ${c.code} (${PRIVILEGES})`,
    async ({ missing, code }) => {
      const base = ['database tally', 'schema tally.public', 'warehouse wh'].filter((b) => b !== missing);
      const reader = await roleWith(['select on table tally.public.loaded'], base);
      await expect(h.run('select count(*) from tally.public.loaded', reader)).rejects.toMatchObject({ code });
    },
  );

  it(`is what USE WAREHOUSE and USE DATABASE take (${PRIVILEGES})`, async () => {
    const none = await roleWith([], []);
    await expect(h.run('use warehouse wh', none)).rejects.toMatchObject({ code: '002043' });
    await expect(h.run('use database tally', none)).rejects.toMatchObject({ code: '002043' });
  });

  it(`is not needed for a query that reads no table (${PRIVILEGES})`, async () => {
    const none = await roleWith([], []);
    expect((await h.run('select 1 + 1', none)).rows).toEqual([['2']]);
  });
});

describe('owners and grants', () => {
  it(`gives the role that creates an object every privilege on it (${OVERVIEW})`, async () => {
    const creator = await roleWith(['create table on schema tally.public']);
    await h.run('create table mine (id number)', creator);
    await h.run('insert into mine values (1)', creator);
    await h.run('delete from mine', creator);
    await h.run('drop table mine', creator);
  });

  it(`keeps SYSADMIN from another role's table unless it is granted (${OVERVIEW})`, async () => {
    await h.run('create table admins_only (id number)', admin);
    await expect(h.run('select * from admins_only', h.session('SYSADMIN'))).rejects.toMatchObject({
      code: '002003',
    });
  });

  it(`lets SYSADMIN use what a role granted to it may (${OVERVIEW})`, async () => {
    const role = await roleWith(['select on table tally.public.loaded']);
    await h.run(`grant role ${role.role} to role sysadmin`, admin);
    const sysadmin = h.session('SYSADMIN');
    expect((await h.run('select count(*) >= 0 from tally.public.loaded', sysadmin)).rows).toEqual([['TRUE']]);
  });

  it(`refuses a grant from a role that neither owns the object nor holds MANAGE GRANTS (${PRIVILEGES})`, async () => {
    const role = await roleWith(['select on table tally.public.loaded']);
    await expect(
      h.run(`grant insert on table tally.public.loaded to role ${role.role}`, role),
    ).rejects.toMatchObject({
      code: '003001',
    });
  });

  it(`applies FUTURE grants to tables created later and ALL TABLES grants to those there now (${PRIVILEGES})`, async () => {
    await h.run('create schema grants_demo', admin);
    await h.run('create table tally.grants_demo.before (id number)', admin);
    const role = await roleWith([
      'usage on schema tally.grants_demo',
      'select on all tables in schema tally.grants_demo',
    ]);
    await h.run(`grant select on future tables in schema tally.grants_demo to role ${role.role}`, admin);
    await h.run('create table tally.grants_demo.after (id number)', admin);
    expect((await h.run('select count(*) from tally.grants_demo.before', role)).rows).toEqual([['0']]);
    expect((await h.run('select count(*) from tally.grants_demo.after', role)).rows).toEqual([['0']]);
  });

  it(`lets only account administrators create storage integrations (${PRIVILEGES})`, async () => {
    await expect(
      h.run(
        "create storage integration other type = external_stage storage_provider = 'S3' enabled = true",
        h.session('SYSADMIN'),
      ),
    ).rejects.toMatchObject({ code: '003001' });
  });
});

describe('GRANT OWNERSHIP', () => {
  /** A table created by a role of its own, SELECT on it granted to a reader, and a role to own it next. */
  async function ownedTable() {
    const oldOwner = await roleWith(['create table on schema tally.public']);
    const reader = await roleWith([]);
    const newOwner = await roleWith(['create table on schema tally.public']);
    // Qualified: an earlier CREATE SCHEMA moved the administrator's session to another schema.
    const table = `tally.public.OWNED_${++n}`;
    await h.run(`create table ${table} (id number)`, oldOwner);
    await h.run(`grant select on table ${table} to role ${reader.role}`, oldOwner);
    return { table, oldOwner, reader, newOwner };
  }

  it(`moves ownership with COPY CURRENT GRANTS, keeping the other grants on the object (${GRANT_OWNERSHIP})`, async () => {
    const { table, oldOwner, reader, newOwner } = await ownedTable();
    await h.run(`grant ownership on table ${table} to role ${newOwner.role} copy current grants`, admin);
    expect((await h.run(`select count(*) from ${table}`, reader)).rows).toEqual([['0']]);
    // The new owner does what an owner does; the old one no longer.
    await h.run(`grant select on table ${table} to role ${oldOwner.role}`, newOwner);
    await expect(h.run(`drop table ${table}`, oldOwner)).rejects.toMatchObject({ code: '003001' });
    await h.run(`grant select on table tally.public.loaded to role ${newOwner.role}`, admin);
    await h.run(`create or replace table ${table} like tally.public.loaded`, newOwner);
    await h.run(`drop table ${table}`, newOwner);
  });

  it(`moves ownership with REVOKE CURRENT GRANTS, removing the other grants on the object (${GRANT_OWNERSHIP})`, async () => {
    const { table, oldOwner, reader, newOwner } = await ownedTable();
    await h.run(`grant ownership on table ${table} to role ${newOwner.role} revoke current grants`, oldOwner);
    await expect(h.run(`select count(*) from ${table}`, reader)).rejects.toMatchObject({ code: '002003' });
    await expect(h.run(`insert into ${table} values (1)`, oldOwner)).rejects.toMatchObject({
      code: '002003',
    });
    await h.run(`insert into ${table} values (1)`, newOwner);
  });

  it(`"fails if existing outbound privileges on the object are neither revoked nor copied" (${GRANT_OWNERSHIP})`, async () => {
    const { table, reader, newOwner } = await ownedTable();
    await expect(
      h.run(`grant ownership on table ${table} to role ${newOwner.role}`, admin),
    ).rejects.toMatchObject({
      code: '003036',
      message: expect.stringContaining("Dependent grant of privilege 'SELECT'"),
    });
    // Nothing moved: the reader still reads and the new owner holds no privilege on the table.
    expect((await h.run(`select count(*) from ${table}`, reader)).rows).toEqual([['0']]);
    await expect(h.run(`insert into ${table} values (1)`, newOwner)).rejects.toMatchObject({
      code: '002003',
    });
    // Without outbound privileges the plain form moves it.
    await h.run(`revoke select on table ${table} from role ${reader.role}`, admin);
    await h.run(`grant ownership on table ${table} to role ${newOwner.role}`, admin);
    await h.run(`drop table ${table}`, newOwner);
  });

  it(`lets COPY CURRENT GRANTS be run only with MANAGE GRANTS or by the new owner or a higher role (${GRANT_OWNERSHIP})`, async () => {
    const { table, oldOwner, newOwner } = await ownedTable();
    await expect(
      h.run(`grant ownership on table ${table} to role ${newOwner.role} copy current grants`, oldOwner),
    ).rejects.toMatchObject({ code: '003001' });
    await h.run(`grant role ${newOwner.role} to role ${oldOwner.role}`, admin);
    await h.run(`grant ownership on table ${table} to role ${newOwner.role} copy current grants`, oldOwner);
  });

  it(`takes CURRENT GRANTS after OWNERSHIP only (${GRANT_OWNERSHIP})`, async () => {
    const { table, newOwner } = await ownedTable();
    await expect(
      h.run(`grant select on table ${table} to role ${newOwner.role} copy current grants`, admin),
    ).rejects.toMatchObject({ code: '001003' });
  });
});
