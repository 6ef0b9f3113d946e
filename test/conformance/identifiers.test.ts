// Reserved and limited keywords against Snowflake's list: refused unquoted where a statement names a table, a
// column or an alias, accepted quoted (https://docs.snowflake.com/en/sql-reference/reserved-keywords).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTIFIERS, RESERVED } from './docs';
import { eachCase, type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.run('create table words ("START" number, "ROWS" number, name varchar)');
});

afterAll(async () => {
  await h.close();
});

describe('reserved keywords', () => {
  eachCase(
    [
      { behaviour: 'an ANSI-reserved column name in CREATE TABLE', sql: 'create table t1 (start number)' },
      { behaviour: 'a reserved table name in CREATE TABLE', sql: 'create table order (id number)' },
      { behaviour: 'CURRENT_DATE as a column name', sql: 'create table t2 (current_date date)' },
      {
        behaviour: 'CONSTRAINT as a column name in CREATE TABLE',
        sql: 'create table t3 (constraint varchar)',
      },
      { behaviour: 'a reserved column qualified by its table', sql: 'select words.start from words' },
      { behaviour: 'a reserved column in a comparison', sql: 'select count(*) from words where rows >= 1' },
      {
        behaviour: 'a reserved column in an INSERT column list',
        sql: 'insert into words (start) values (1)',
      },
      {
        behaviour: 'a reserved column in a MERGE INSERT column list',
        sql: 'merge into words t using (select 1 as id) s on t.name = s.id when not matched then insert (rows) values (1)',
      },
      { behaviour: 'a reserved column set by UPDATE', sql: 'update words set start = 1' },
      { behaviour: 'a reserved table name after FROM', sql: 'select * from tally.public.trigger' },
      { behaviour: 'JOIN (limited) as a table name in FROM', sql: 'select * from join' },
    ],
    (c) => `refuses ${c.behaviour} with a syntax error (${RESERVED})`,
    async ({ sql }) => {
      await expect(h.run(sql)).rejects.toMatchObject({ code: '001003', sqlState: '42000' });
    },
  );

  it(`accepts the same names double-quoted (${IDENTIFIERS})`, async () => {
    await h.run('create table "ORDER" ("START" number, "CURRENT_DATE" date)');
    await h.run('insert into words ("START", "ROWS", name) values (1, 2, \'a\')');
    await h.run('update words set "START" = 3 where "ROWS" >= 1');
    expect((await h.run('select words."START", "ROWS" from words')).rows).toEqual([['3', '2']]);
    await h.run(
      'merge into words t using (select \'b\' as n) s on t.name = s.n when not matched then insert ("START", "ROWS", name) values (4, 5, s.n)',
    );
    expect((await h.run('select count(*) from "ORDER"')).rows).toEqual([['0']]);
  });

  it(`accepts words that are not reserved, such as DATE, NAME and VALUE (${RESERVED})`, async () => {
    await h.run('create table plain (date date, name varchar, value number)');
    await h.run("insert into plain (date, name, value) values (current_date, 'x', 1)");
    expect((await h.run('select value from plain where value >= 1')).rows).toEqual([['1']]);
  });
});
