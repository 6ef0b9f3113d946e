// MERGE's rule for a target row joined by several source rows, against Snowflake's documentation: which merges
// are deterministic and succeed, which fail with 100090 (https://docs.snowflake.com/en/sql-reference/sql/merge).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MERGE, PARAMETERS } from './docs';
import { eachCase, type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

beforeEach(async () => {
  await h.run('create or replace table target (k number, v number)');
  await h.run('insert into target values (1, 0)');
});

const source = (rows: readonly (readonly [number, number])[]) =>
  `(${rows.map(([k, v]) => `select ${k} as k, ${v} as v`).join(' union all ')})`;

describe('MERGE with duplicate source rows', () => {
  eachCase(
    [
      {
        behaviour: 'exactly one of two source rows satisfies the UPDATE clause: deterministic',
        rows: [
          [1, 10],
          [1, -5],
        ] as const,
        clauses: 'when matched and s.v > 0 then update set v = s.v',
        result: [['1', '10']],
      },
      {
        behaviour: 'both source rows satisfy the DELETE clause and none another: deterministic',
        rows: [
          [1, 10],
          [1, 20],
        ] as const,
        clauses: 'when matched then delete',
        result: [],
      },
      {
        behaviour: 'no source row satisfies any WHEN MATCHED clause: nothing to decide',
        rows: [
          [1, -1],
          [1, -2],
        ] as const,
        clauses: 'when matched and s.v > 0 then update set v = s.v',
        result: [['1', '0']],
      },
    ],
    (c) => `succeeds when ${c.behaviour} (${MERGE})`,
    async ({ rows, clauses, result }) => {
      await h.run(`merge into target t using ${source(rows)} s on t.k = s.k ${clauses}`);
      expect((await h.run('select k, v from target order by k')).rows).toEqual(result);
    },
  );

  eachCase(
    [
      {
        behaviour: 'two source rows satisfy the UPDATE clause',
        rows: [
          [1, 10],
          [1, 20],
        ] as const,
        clauses: 'when matched then update set v = s.v',
      },
      {
        behaviour: 'one source row satisfies UPDATE and another DELETE',
        rows: [
          [1, 10],
          [1, -5],
        ] as const,
        clauses: 'when matched and s.v > 0 then update set v = s.v when matched then delete',
      },
    ],
    (c) => `fails with 100090 and changes nothing when ${c.behaviour} (${MERGE})`,
    async ({ rows, clauses }) => {
      await expect(
        h.run(`merge into target t using ${source(rows)} s on t.k = s.k ${clauses}`),
      ).rejects.toMatchObject({
        code: '100090',
        sqlState: '42P18',
      });
      expect((await h.run('select k, v from target')).rows).toEqual([['1', '0']]);
    },
  );

  it(`inserts every copy of an unmatched source row ("one copy of the row for each copy in the source") (${MERGE})`, async () => {
    const r = await h.run(
      `merge into target t using ${source([
        [2, 1],
        [2, 1],
      ])} s on t.k = s.k when not matched then insert (k, v) values (s.k, s.v)`,
    );
    expect(r.rows).toEqual([['2']]);
    expect((await h.run('select count(*) from target where k = 2')).rows).toEqual([['2']]);
  });

  it(`refuses ERROR_ON_NONDETERMINISTIC_MERGE = FALSE's undefined choice of row (${PARAMETERS})`, async () => {
    const s = h.session();
    await h.run('alter session set error_on_nondeterministic_merge = false', s);
    await expect(
      h.run(
        `merge into target t using ${source([
          [1, 10],
          [1, 20],
        ])} s on t.k = s.k when matched then update set v = s.v`,
        s,
      ),
    ).rejects.toMatchObject({ code: '000002' });
  });
});
