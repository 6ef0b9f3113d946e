// What COPY INTO <table> answers: one row per file with its status, counts and first error, in the
// columns and order Snowflake's COPY output has.
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import { columnMeta, sfType } from '../sf-types';

export interface FileResult {
  readonly file: string;
  /** "Status: loaded, load failed or partially loaded"; files loaded before are not listed at all. */
  readonly status: 'LOADED' | 'LOAD_FAILED' | 'PARTIALLY_LOADED';
  readonly parsed: number;
  readonly loaded: number;
  readonly errorLimit: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly firstErrorLine: number | null;
  readonly firstErrorCharacter: number | null;
  readonly firstErrorColumn: string | null;
}

const RESULT_COLUMNS = [
  'file',
  'status',
  'rows_parsed',
  'rows_loaded',
  'error_limit',
  'errors_seen',
  'first_error',
  'first_error_line',
  'first_error_character',
  'first_error_column_name',
] as const;

/** Positions in RESULT_COLUMNS that are numbers. */
const NUMBER_COLUMNS = [2, 3, 4, 5, 7, 8];

export function resultSet(results: readonly FileResult[]): QueryResult {
  const text = sfType('VARCHAR');
  const number = sfType('NUMBER');
  const columns = RESULT_COLUMNS.map((name, i) =>
    columnMeta(name, NUMBER_COLUMNS.includes(i) ? number : text),
  );
  const n = (v: number | null) => (v === null ? null : String(v));
  return {
    columns,
    rows: results.map((r) => [
      r.file,
      r.status,
      n(r.parsed),
      n(r.loaded),
      n(r.errorLimit),
      n(r.errors),
      r.firstError,
      n(r.firstErrorLine),
      n(r.firstErrorCharacter),
      r.firstErrorColumn,
    ]),
    statementTypeId: STATEMENT_TYPE.COPY,
  };
}
