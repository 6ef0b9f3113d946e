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

const MAX_TEXT = 16_777_216;
const MAX_BINARY = 8_388_608;

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
      const p = num(args, 0, 38);
      const s = num(args, 1, 0);
      if (p < 1 || p > 38 || s < 0 || s > p) {
        throw new SnowflakeSqlError(
          '001003',
          '42000',
          `SQL compilation error:\nunsupported data type '${n}'.`,
        );
      }
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
      return { canonical: 'TIME(9)', wire: 'time', duck: 'TIME', precision: 0, scale: 9, length: null };
    case 'TIMESTAMP':
    case 'DATETIME':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMPNTZ':
    case 'TIMESTAMP WITHOUT TIME ZONE':
      return ts('TIMESTAMP_NTZ', 'timestamp_ntz', 'TIMESTAMP');
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMPLTZ':
    case 'TIMESTAMP WITH LOCAL TIME ZONE':
      return ts('TIMESTAMP_LTZ', 'timestamp_ltz', 'TIMESTAMPTZ');
    case 'TIMESTAMP_TZ':
    case 'TIMESTAMPTZ':
    case 'TIMESTAMP WITH TIME ZONE':
      return ts('TIMESTAMP_TZ', 'timestamp_tz', 'TIMESTAMPTZ');
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

function ts(canonical: string, wire: SnowflakeColumnType, duck: string): SfType {
  return { canonical: `${canonical}(9)`, wire, duck, precision: 0, scale: 9, length: null };
}

/** Parses a canonical name written in a column comment back into a type. */
export function parseCanonical(text: string): SfType | undefined {
  const m = /^([A-Z_ ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(text.trim());
  if (!m) return undefined;
  const args = [m[2], m[3]].filter((x): x is string => x !== undefined).map(Number);
  // TIME(9) and TIMESTAMP_*(9) carry a fraction precision, not a size.
  const name = m[1] as string;
  try {
    return sfType(name, name.startsWith('TIME') ? [] : args);
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
