// The query forms Tally's bounded audit reads use: QUALIFY on ROW_NUMBER() over a window, per partition
// and over the whole table, as Snowflake documents them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUALIFY, ROW_NUMBER } from './docs';
import { type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.run('create table events (t varchar, n integer)');
  await h.run("insert into events values ('a', 1), ('a', 2), ('a', 3), ('b', 10), ('b', 20), ('c', 7)");
});

afterAll(async () => {
  await h.close();
});

const rows = async (sql: string) => (await h.run(sql)).rows.map((r) => r.map(String));

describe('QUALIFY with ROW_NUMBER()', () => {
  it(`keeps the newest rows of each partition, filtered after the window function (${QUALIFY}; ${ROW_NUMBER})`, async () => {
    expect(
      await rows(
        'select t, n from events qualify row_number() over (partition by t order by n desc) <= 2 order by t, n',
      ),
    ).toEqual([
      ['a', '2'],
      ['a', '3'],
      ['b', '10'],
      ['b', '20'],
      ['c', '7'],
    ]);
  });

  it(`keeps the newest rows of the whole table without PARTITION BY, combined with WHERE (${QUALIFY})`, async () => {
    expect(
      await rows(
        "select t, n from events where t <> 'c' qualify row_number() over (order by n desc) <= 2 order by n",
      ),
    ).toEqual([
      ['b', '10'],
      ['b', '20'],
    ]);
  });
});
