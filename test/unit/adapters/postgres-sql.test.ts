import { describe, expect, it } from 'vitest';
import {
  bindRenderer,
  literalRenderer,
  qualified,
  selectList,
  sliceCondition,
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

  it('writes window bounds as escaped literals for COPY, which takes no parameters', () => {
    const window = { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' };
    const sql = sliceCondition(table, { kind: 'window', window }, literalRenderer);
    expect(sql).toBe(
      `"updated at" >= '2024-01-01T00:00:00Z'::timestamptz AND "updated at" < '2024-01-02T00:00:00Z'::timestamptz`,
    );
  });

  it('refuses a bound that is not a value of the cursor type before any SQL is built', () => {
    expect(() =>
      sliceCondition(
        table,
        { kind: 'window', window: { from: "1'; drop table y; --", to: null } },
        literalRenderer,
      ),
    ).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });

  it('makes an unbounded slice select everything', () => {
    expect(sliceCondition(table, { kind: 'all' }, literalRenderer)).toBe('TRUE');
    expect(sliceCondition(table, { kind: 'window', window: { from: null, to: null } }, literalRenderer)).toBe(
      'TRUE',
    );
  });
});
