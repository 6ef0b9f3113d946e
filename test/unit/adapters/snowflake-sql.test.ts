// How Tally writes names into Snowflake SQL: every identifier quoted, plain names in the upper case an
// unquoted name would have (https://docs.snowflake.com/en/sql-reference/identifiers-syntax), reserved
// words (https://docs.snowflake.com/en/sql-reference/reserved-keywords) read as names.
import { describe, expect, it } from 'vitest';
import {
  checkTargetColumns,
  ident,
  literal,
  qualified,
  targetColumn,
  targetName,
} from '../../../lambdas/adapters/snowflake/sql';

describe('Snowflake identifiers', () => {
  it('quote a plain name in upper case, so the target stays queryable without quotes', () => {
    expect(targetColumn('updated_at')).toBe('"UPDATED_AT"');
    expect(targetName('updated_at')).toBe('UPDATED_AT');
  });

  it('quote a reserved word, so a column named start, rows, values or order is a name', () => {
    expect(['start', 'rows', 'values', 'order'].map(targetColumn)).toEqual([
      '"START"',
      '"ROWS"',
      '"VALUES"',
      '"ORDER"',
    ]);
  });

  it('keep a name PostgreSQL had quoted (mixed case, a space) as it is, doubling its quotes', () => {
    expect(targetColumn('MixedCase')).toBe('"MixedCase"');
    expect(targetColumn('Order Date')).toBe('"Order Date"');
    expect(targetColumn('we"ird')).toBe('"we""ird"');
  });

  it('qualify configuration names by database and schema, each quoted', () => {
    expect(qualified({ database: 'analytics', schema: 'public' }, 'TALLY_CSV')).toBe(
      '"ANALYTICS"."PUBLIC"."TALLY_CSV"',
    );
    expect(ident('TALLY_LOADER')).toBe('"TALLY_LOADER"');
  });

  it('refuse, by name, columns that would share one name in Snowflake', () => {
    expect(() => checkTargetColumns('public.t', ['id', 'ID', 'v'])).toThrow(
      expect.objectContaining({
        name: 'SourceSchemaError',
        message: expect.stringContaining('columns "id" and "ID" would both be "ID" in Snowflake'),
      }),
    );
    expect(() => checkTargetColumns('public.t', ['id', 'Id', 'mixedcase', 'MixedCase'])).not.toThrow();
  });
});

describe('Snowflake string literals', () => {
  it('escape quotes and backslashes, which Snowflake reads as the start of an escape sequence', () => {
    expect(literal("it's C:\\temp")).toBe("'it''s C:\\\\temp'");
  });
});
