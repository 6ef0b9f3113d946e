import { describe, expect, it } from 'vitest';
import {
  bindRenderer,
  qualified,
  selectList,
  settingRenderer,
  settingsStatement,
  sliceCondition,
  splitKeyColumn,
} from '../../../lambdas/adapters/postgres/sql';
import type { ColumnInfo, ResolvedTable } from '../../../lambdas/domain/table';

const column = (name: string, baseType: string, category = 'N'): ColumnInfo => ({
  name,
  pgType: baseType,
  category,
  baseType,
  nullable: true,
});

const table: ResolvedTable = {
  schema: 'sch"ema',
  name: 'x"; drop table y; --',
  primaryKey: ['id'],
  cursorColumn: 'updated at',
  cursorKind: 'timestamp',
  targetName: 'X',
  columns: [
    column('id', 'int8'),
    column('updated at', 'timestamptz', 'D'),
    column('price', 'money'),
    column('prices', 'money', 'A'),
    column('note"s', 'text', 'S'),
  ],
};

describe('PostgreSQL SQL text', () => {
  it('quotes schema and table as identifiers, doubling embedded quotes', () => {
    expect(qualified(table)).toBe('"sch""ema"."x""; drop table y; --"');
  });

  it('selects every column quoted, with money written as a plain number and arrays as JSON', () => {
    expect(selectList(table)).toBe(
      '"id", "updated at", "price"::numeric AS "price", array_to_json("prices"::numeric[]) AS "prices", "note""s"',
    );
    expect(selectList({ ...table, textColumns: ['prices'] })).toBe(
      '"id", "updated at", "price"::numeric AS "price", "prices"::numeric[] AS "prices", "note""s"',
    );
  });

  it('binds window bounds as parameters cast to the cursor type', () => {
    const params: unknown[] = [];
    const sql = sliceCondition(
      table,
      { kind: 'window', window: { from: '2024-01-01T00:00:00Z', to: null } },
      bindRenderer(params),
    );
    expect(sql).toBe('"updated at" >= $1::timestamptz');
    expect(params).toEqual(['2024-01-01T00:00:00Z']);
  });

  it('reads bounds for COPY, which takes no parameters, from settings bound as parameters', () => {
    const window = { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' };
    const values: string[] = [];
    const sql = sliceCondition(table, { kind: 'window', window }, settingRenderer(values));
    expect(sql).toBe(
      `"updated at" >= current_setting('tally.bound_1')::timestamptz AND "updated at" < current_setting('tally.bound_2')::timestamptz`,
    );
    expect(settingsStatement(values)).toEqual({
      text: "SELECT set_config('tally.bound_1', $1, true), set_config('tally.bound_2', $2, true)",
      values: ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'],
    });
    expect(settingsStatement([])).toBeNull();
  });

  it('bounds a key range on the leading key column in its own type, whatever the bound text holds', () => {
    const composite: ResolvedTable = {
      ...table,
      primaryKey: ['note"s', 'id'],
    };
    const params: unknown[] = [];
    const bound = "it's'; drop table y; --";
    const sql = sliceCondition(
      composite,
      { kind: 'keys', range: { from: bound, to: null } },
      bindRenderer(params),
    );
    expect(sql).toBe('"note""s" >= $1::text');
    expect(params).toEqual([bound]);
    expect(sliceCondition(table, { kind: 'keys', range: { from: '5', to: '9' } }, bindRenderer([]))).toBe(
      '"id" >= $1::int8 AND "id" < $2::int8',
    );
  });

  it('splits the leading key column of the types it orders, and says why not for others', () => {
    expect(splitKeyColumn(table)).toMatchObject({ name: 'id' });
    expect(splitKeyColumn({ ...table, primaryKey: ['price', 'id'] })).toEqual({
      reason: expect.stringMatching(/"price", has type money, which Tally does not split/),
    });
    expect(() =>
      sliceCondition(
        { ...table, primaryKey: ['prices'] },
        { kind: 'keys', range: { from: '1', to: null } },
        bindRenderer([]),
      ),
    ).toThrow(/cannot be split into key ranges/);
    expect(() =>
      sliceCondition(table, { kind: 'keys', range: { from: 'a\u0000b', to: null } }, bindRenderer([])),
    ).toThrow(/no NUL/);
  });

  it('refuses a bound that is not a value of the cursor type before any SQL is built', () => {
    expect(() =>
      sliceCondition(
        table,
        { kind: 'window', window: { from: "1'; drop table y; --", to: null } },
        bindRenderer([]),
      ),
    ).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });

  it('makes an unbounded slice select everything', () => {
    expect(sliceCondition(table, { kind: 'all' }, bindRenderer([]))).toBe('TRUE');
    expect(
      sliceCondition(table, { kind: 'window', window: { from: null, to: null } }, bindRenderer([])),
    ).toBe('TRUE');
  });
});
