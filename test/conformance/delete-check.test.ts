// The statements the delete check sends, against Snowflake's documentation: ALTER TABLE ... ADD COLUMN
// [IF NOT EXISTS] (https://docs.snowflake.com/en/sql-reference/sql/alter-table), UPDATE ... SET ... WHERE
// (https://docs.snowflake.com/en/sql-reference/sql/update) and DELETE FROM ... WHERE
// (https://docs.snowflake.com/en/sql-reference/sql/delete), each answering with its count of rows; what
// the pages leave open is refused with 000002; and the rows of a table read through a subquery in FROM
// (https://docs.snowflake.com/en/sql-reference/constructs/from), as counts of a soft-deleting table are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bind } from '../../local/snowflake/engine-types';
import { ALTER_TABLE, DELETE, FROM, UPDATE } from './docs';
import { byName, type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

const text = (value: string): Bind => ({ type: 'TEXT', value });
const withBinds = (sql: string, binds: Bind[]) => h.engine.execute(sql, binds, h.session());

describe('ALTER TABLE ... ADD COLUMN', () => {
  it(`adds a column at the end, NULL in every existing row, described with its type (${ALTER_TABLE})`, async () => {
    await h.run('create or replace table marked (id number, v varchar)');
    await h.run("insert into marked values (1, 'a'), (2, 'b')");
    const result = await h.run('alter table marked add column "_TALLY_DELETED_AT" timestamp_tz');
    expect(byName(result)[0]?.status).toBe('Statement executed successfully.');
    const described = await h.run('describe table marked');
    expect(described.rows.map((r) => [r[0], r[1]])).toEqual([
      ['ID', 'NUMBER(38,0)'],
      ['V', 'VARCHAR(16777216)'],
      ['_TALLY_DELETED_AT', 'TIMESTAMP_TZ(9)'],
    ]);
    const rows = byName(await h.run('select id, "_TALLY_DELETED_AT" as d from marked order by id'));
    expect(rows).toEqual([
      { ID: '1', D: null },
      { ID: '2', D: null },
    ]);
  });

  it(`leaves a column already there as it is with IF NOT EXISTS, and refuses it without (${ALTER_TABLE})`, async () => {
    await h.run('create or replace table twice (id number, d timestamp_tz)');
    await h.run('insert into twice values (1, null)');
    await h.run('alter table twice add column if not exists d timestamp_tz');
    expect((await h.run('describe table twice')).rows).toHaveLength(2);
    await expect(h.run('alter table twice add column d timestamp_tz')).rejects.toThrow(/already exists/);
    await expect(h.run('alter table twice add d timestamp_tz')).rejects.toThrow(/already exists/);
  });

  it(`does nothing for a missing table with IF EXISTS, and fails without (${ALTER_TABLE})`, async () => {
    const done = await h.run('alter table if exists nowhere add column x number');
    expect(byName(done)[0]?.status).toBe('Statement executed successfully.');
    await expect(h.run('alter table nowhere add column x number')).rejects.toThrow(/does not exist/);
  });

  it(`refuses what the page leaves open: IF NOT EXISTS over a column of another type, DEFAULT, NOT NULL (${ALTER_TABLE})`, async () => {
    await h.run('create or replace table open_ended (id number, d varchar)');
    await expect(
      h.run('alter table open_ended add column if not exists d timestamp_tz'),
    ).rejects.toMatchObject({ code: '000002' });
    await expect(h.run('alter table open_ended add column n number default 0')).rejects.toMatchObject({
      code: '000002',
    });
    await expect(h.run('alter table open_ended add column n number not null')).rejects.toMatchObject({
      code: '000002',
    });
    expect((await h.run('describe table open_ended')).rows).toHaveLength(2);
  });
});

describe('UPDATE and DELETE of rows by key', () => {
  it(`marks the rows of bound keys and answers how many it updated (${UPDATE})`, async () => {
    await h.run('create or replace table soft (id number, d timestamp_tz)');
    await h.run('insert into soft values (1, null), (2, null), (3, null)');
    const result = await withBinds(
      'update soft set d = current_timestamp() where to_varchar(id) in (?, ?) and d is null',
      [text('1'), text('3')],
    );
    expect(byName(result)[0]?.['number of rows updated']).toBe('2');
    const rows = byName(await h.run('select id, d is not null as m from soft order by id'));
    expect(rows.map((r) => [r.ID, r.M])).toEqual([
      ['1', 'TRUE'],
      ['2', 'FALSE'],
      ['3', 'TRUE'],
    ]);
  });

  it(`deletes the rows of bound keys and answers how many it deleted (${DELETE})`, async () => {
    await h.run('create or replace table hard (id number, v varchar)');
    await h.run("insert into hard values (1, 'a'), (2, 'b'), (3, 'c')");
    const result = await withBinds('delete from hard where id < ? and to_varchar(id) in (?, ?)', [
      text('3'),
      text('2'),
      text('3'),
    ]);
    expect(byName(result)[0]?.['number of rows deleted']).toBe('1');
    expect(byName(await h.run('select id from hard order by id')).map((r) => r.ID)).toEqual(['1', '3']);
  });

  it(`counts the unmarked rows through a subquery in FROM, filtered again outside it (${FROM})`, async () => {
    await h.run('create or replace table seen (id number, d timestamp_tz)');
    await h.run('insert into seen values (1, null), (2, current_timestamp()), (3, null), (4, null)');
    const result = await withBinds(
      'select count(*) as n from (select * from seen where d is null) where id < ?',
      [text('4')],
    );
    expect(byName(result)[0]?.N).toBe('2');
  });
});
