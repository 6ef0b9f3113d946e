import { describe, expect, it } from 'vitest';
import { snowflakeType } from '../../../lambdas/adapters/snowflake/types';
import type { ColumnInfo } from '../../../lambdas/domain/table';
import {
  MAX_VARCHAR_BYTES,
  MAX_VARIANT_BYTES,
  targetLimitOf,
  targetTypeOf,
} from '../../../lambdas/domain/type-mapping';

const column = (name: string, pgType: string, baseType: string, category = 'X'): ColumnInfo => ({
  name,
  pgType,
  baseType,
  category,
  nullable: true,
});
const sf = (c: ColumnInfo, textColumns?: string[]) =>
  snowflakeType(targetTypeOf(c, textColumns ? { textColumns } : {}));

describe('the Snowflake type of a PostgreSQL column', () => {
  it('is a NUMBER with the declared precision and scale while NUMBER can hold it (scale at most 37)', () => {
    expect(sf(column('n', 'numeric(12,2)', 'numeric'))).toBe('NUMBER(12,2)');
    expect(sf(column('n', 'numeric(38,37)', 'numeric'))).toBe('NUMBER(38,37)');
    expect(sf(column('n', 'numeric(38,38)', 'numeric'))).toBe(`VARCHAR(${MAX_VARCHAR_BYTES})`);
    expect(sf(column('n', 'numeric(39,2)', 'numeric'))).toBe(`VARCHAR(${MAX_VARCHAR_BYTES})`);
    expect(sf(column('n', 'numeric', 'numeric'))).toBe(`VARCHAR(${MAX_VARCHAR_BYTES})`);
    expect(sf(column('i', 'bigint', 'int8'))).toBe('NUMBER(38,0)');
  });

  it('declares text as wide as Snowflake allows, since a length costs no storage', () => {
    expect(sf(column('t', 'text', 'text'))).toBe('VARCHAR(134217728)');
    expect(sf(column('u', 'uuid', 'uuid'))).toBe('VARCHAR(36)');
  });

  it('lands an array in an ARRAY, or its PostgreSQL literal in a VARCHAR under textColumns', () => {
    expect(sf(column('a', 'integer[]', 'int4', 'A'))).toBe('ARRAY');
    expect(sf(column('a', 'text[]', 'text', 'A'))).toBe('ARRAY');
    expect(sf(column('a', 'integer[]', 'int4', 'A'), ['a'])).toBe('VARCHAR(134217728)');
  });

  it('is the exact text in a VARCHAR for a column listed in textColumns, whatever its type', () => {
    expect(sf(column('d', 'date', 'date'), ['d'])).toBe('VARCHAR(134217728)');
    expect(sf(column('j', 'jsonb', 'jsonb'))).toBe('VARIANT');
    expect(sf(column('j', 'jsonb', 'jsonb'), ['j'])).toBe('VARCHAR(134217728)');
  });
});

describe('what a target type cannot hold', () => {
  it('names the limit the export checks for each kind', () => {
    const limit = (c: ColumnInfo) => targetLimitOf(c, targetTypeOf(c));
    expect(limit(column('d', 'date', 'date'))).toEqual({ kind: 'finite-year-1-to-9999' });
    expect(limit(column('t', 'timestamp with time zone', 'timestamptz'))).toEqual({
      kind: 'finite-year-1-to-9999',
    });
    expect(limit(column('t', 'time without time zone', 'time'))).toEqual({ kind: 'before-24h' });
    expect(limit(column('n', 'numeric(10,2)', 'numeric'))).toEqual({ kind: 'not-nan' });
    expect(limit(column('m', 'money', 'money'))).toBeNull();
    expect(limit(column('f', 'double precision', 'float8'))).toBeNull();
    expect(limit(column('t', 'text', 'text'))).toEqual({
      kind: 'max-bytes',
      bytes: MAX_VARCHAR_BYTES,
      of: 'VARCHAR',
    });
    const variant = { kind: 'max-bytes', bytes: MAX_VARIANT_BYTES, of: 'VARIANT' };
    expect(limit(column('j', 'jsonb', 'jsonb'))).toEqual(variant);
    expect(limit(column('a', 'integer[]', 'int4', 'A'))).toEqual(variant);
  });
});
