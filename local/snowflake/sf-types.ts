// Snowflake's data types: how each is stored in DuckDB and described back to the driver. The declared
// type is kept as a column comment, as DuckDB loses TIMESTAMP_LTZ versus _TZ and VARIANT versus OBJECT.
import type { ColumnMeta, SnowflakeColumnType } from './engine-types';
import { SnowflakeSqlError } from './engine-types';

export interface SfType {
  /** Snowflake's canonical name, e.g. NUMBER(38,2), TIMESTAMP_TZ(9), VARCHAR(16777216). */
  readonly canonical: string;
  readonly wire: SnowflakeColumnType;
  readonly duck: string;
  readonly precision: number | null;
  readonly scale: number | null;
  readonly length: number | null;
}

/** VARCHAR's default length, and its maximum (https://docs.snowflake.com/en/sql-reference/data-types-text). */
export const DEFAULT_TEXT_LENGTH = 16_777_216;
export const MAX_TEXT_LENGTH = 134_217_728;
const MAX_TEXT = DEFAULT_TEXT_LENGTH;
const MAX_BINARY = 8_388_608;

function badType(text: string, why: string): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '001003',
    '42000',
    `SQL compilation error:\nunsupported data type '${text}': ${why}.`,
  );
}

function num(args: readonly number[], i: number, fallback: number): number {
  return args[i] ?? fallback;
}

/** Resolves a Snowflake type name with its arguments, e.g. ("NUMBER", [10, 2]). */
export function sfType(name: string, args: readonly number[] = []): SfType {
  const n = name.toUpperCase();
  switch (n) {
    case 'NUMBER':
    case 'NUMERIC':
    case 'DECIMAL':
    case 'DEC': {
      // "Numbers up to 38 digits"; "The maximum scale ... is 37" (data-types-numeric).
      const p = num(args, 0, 38);
      const s = num(args, 1, 0);
      const text = `${n}(${args.join(',')})`;
      if (p < 1 || p > 38) throw badType(text, 'the precision must be between 1 and 38');
      if (s < 0 || s > 37) throw badType(text, 'the scale must be between 0 and 37');
      if (s > p) throw badType(text, 'the scale cannot exceed the precision');
      return fixed(p, s);
    }
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
    case 'SMALLINT':
    case 'TINYINT':
    case 'BYTEINT':
      return fixed(38, 0);
    case 'FLOAT':
    case 'FLOAT4':
    case 'FLOAT8':
    case 'DOUBLE':
    case 'REAL':
      return { canonical: 'FLOAT', wire: 'real', duck: 'DOUBLE', precision: null, scale: null, length: null };
    case 'VARCHAR':
    case 'STRING':
    case 'TEXT':
    case 'CHAR':
    case 'CHARACTER':
    case 'NCHAR':
    case 'NVARCHAR':
    case 'NVARCHAR2':
    case 'CHAR VARYING': {
      const len = num(args, 0, n.startsWith('CHAR') || n === 'NCHAR' ? 1 : MAX_TEXT);
      if (len < 1 || len > MAX_TEXT_LENGTH) {
        throw badType(`${n}(${len})`, `the length must be between 1 and ${MAX_TEXT_LENGTH}`);
      }
      return {
        canonical: `VARCHAR(${len})`,
        wire: 'text',
        duck: 'VARCHAR',
        precision: null,
        scale: null,
        length: len,
      };
    }
    case 'BOOLEAN':
      return {
        canonical: 'BOOLEAN',
        wire: 'boolean',
        duck: 'BOOLEAN',
        precision: null,
        scale: null,
        length: null,
      };
    case 'DATE':
      return { canonical: 'DATE', wire: 'date', duck: 'DATE', precision: null, scale: null, length: null };
    case 'TIME':
      return {
        canonical: `TIME(${fraction(n, args)})`,
        wire: 'time',
        duck: 'TIME',
        precision: 0,
        scale: 9,
        length: null,
      };
    case 'TIMESTAMP':
    case 'DATETIME':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMPNTZ':
    case 'TIMESTAMP WITHOUT TIME ZONE':
      return ts('TIMESTAMP_NTZ', 'timestamp_ntz', 'TIMESTAMP', fraction(n, args));
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMPLTZ':
    case 'TIMESTAMP WITH LOCAL TIME ZONE':
      return ts('TIMESTAMP_LTZ', 'timestamp_ltz', 'TIMESTAMPTZ', fraction(n, args));
    case 'TIMESTAMP_TZ':
    case 'TIMESTAMPTZ':
    case 'TIMESTAMP WITH TIME ZONE':
      return ts('TIMESTAMP_TZ', 'timestamp_tz', 'TIMESTAMPTZ', fraction(n, args));
    case 'VARIANT':
      return {
        canonical: 'VARIANT',
        wire: 'variant',
        duck: 'JSON',
        precision: null,
        scale: null,
        length: null,
      };
    case 'OBJECT':
      return {
        canonical: 'OBJECT',
        wire: 'object',
        duck: 'JSON',
        precision: null,
        scale: null,
        length: null,
      };
    case 'ARRAY':
      return { canonical: 'ARRAY', wire: 'array', duck: 'JSON', precision: null, scale: null, length: null };
    case 'BINARY':
    case 'VARBINARY': {
      const len = num(args, 0, MAX_BINARY);
      return {
        canonical: `BINARY(${len})`,
        wire: 'binary',
        duck: 'BLOB',
        precision: null,
        scale: null,
        length: len,
      };
    }
    default:
      throw new SnowflakeSqlError(
        '000002',
        '0A000',
        `not supported by the local Snowflake stand-in: data type ${n}`,
      );
  }
}

function fixed(p: number, s: number): SfType {
  return {
    canonical: `NUMBER(${p},${s})`,
    wire: 'fixed',
    duck: `DECIMAL(${p},${s})`,
    precision: p,
    scale: s,
    length: null,
  };
}

/**
 * The declared fraction precision of TIME and TIMESTAMP, 0 to 9 (default 9). DESCRIBE reports it; values are
 * kept to the microsecond and sent with nine fraction digits whatever it is.
 */
function fraction(name: string, args: readonly number[]): number {
  const p = args[0] ?? 9;
  if (p < 0 || p > 9 || args.length > 1)
    throw badType(`${name}(${args.join(',')})`, 'the precision must be between 0 and 9');
  return p;
}

/** The declared fraction precision of a TIME or TIMESTAMP type, from its canonical name. */
export function fractionDigits(sf: SfType): number {
  const m = /\((\d)\)$/.exec(sf.canonical);
  return m ? Number(m[1]) : 9;
}

function ts(canonical: string, wire: SnowflakeColumnType, duck: string, p: number): SfType {
  return { canonical: `${canonical}(${p})`, wire, duck, precision: 0, scale: 9, length: null };
}

/** Parses a canonical name written in a column comment back into a type. */
export function parseCanonical(text: string): SfType | undefined {
  const m = /^([A-Z_ ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(text.trim());
  if (!m) return undefined;
  const args = [m[2], m[3]].filter((x): x is string => x !== undefined).map(Number);
  const name = m[1] as string;
  try {
    return sfType(name, args);
  } catch {
    return undefined;
  }
}

/** The Snowflake type of a DuckDB result column whose declared type is unknown. */
export function typeFromDuck(duckType: string): SfType {
  const t = duckType.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return fixed(Number(dec[1]), Number(dec[2]));
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER'].includes(t)) {
    return { ...fixed(t === 'BIGINT' ? 18 : 38, 0) };
  }
  if (['HUGEINT', 'UBIGINT', 'UHUGEINT'].includes(t)) return fixed(38, 0);
  if (t === 'DOUBLE' || t === 'FLOAT') return sfType('FLOAT');
  if (t === 'BOOLEAN') return sfType('BOOLEAN');
  if (t === 'DATE') return sfType('DATE');
  if (t === 'TIME') return sfType('TIME');
  if (t.startsWith('TIMESTAMP WITH TIME ZONE')) return sfType('TIMESTAMP_LTZ');
  if (t.startsWith('TIMESTAMP')) return sfType('TIMESTAMP_NTZ');
  if (t === 'JSON') return sfType('VARIANT');
  if (t === 'BLOB') return sfType('BINARY');
  return sfType('VARCHAR');
}

/** True when a declared Snowflake type is what a DuckDB column of this type stores. */
export function storedAs(sf: SfType, duckType: string): boolean {
  const t = duckType.toUpperCase().replace(/\s+/g, '');
  const d = sf.duck.toUpperCase().replace(/\s+/g, '');
  if (d === 'TIMESTAMPTZ') return t === 'TIMESTAMPWITHTIMEZONE';
  return t === d;
}

export function columnMeta(
  name: string,
  sf: SfType,
  origin: { database: string; schema: string; table: string; nullable: boolean } = {
    database: '',
    schema: '',
    table: '',
    nullable: true,
  },
): ColumnMeta {
  return {
    name,
    type: sf.wire,
    nullable: origin.nullable,
    precision: sf.precision,
    scale: sf.scale,
    length: sf.length,
    byteLength:
      sf.wire === 'text'
        ? Math.min((sf.length ?? MAX_TEXT) * 4, MAX_TEXT)
        : sf.wire === 'binary'
          ? sf.length
          : null,
    database: origin.database,
    schema: origin.schema,
    table: origin.table,
  };
}

/** A one-column text result, as Snowflake answers DDL and session statements. */
export function textColumn(name: string): ColumnMeta {
  return columnMeta(name, sfType('VARCHAR'));
}

/** A NUMBER(38,0) result column, as in DML counts. */
export function countColumn(name: string): ColumnMeta {
  return columnMeta(name, fixed(38, 0), { database: '', schema: '', table: '', nullable: false });
}
