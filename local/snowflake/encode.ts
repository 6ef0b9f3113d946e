// Turns DuckDB values into the strings Snowflake puts in a JSON rowset, per the column's Snowflake type.
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { SnowflakeColumnType } from './engine-types';

/** Decimal text of an integer scaled by 10^-scale, e.g. (-1234n, 2) → "-12.34". */
export function scaledText(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(scale + 1, '0');
  const text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
  return (negative ? '-' : '') + text;
}

/** Snowflake writes floats the way C's printf does for the special values. */
export function realText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  return String(value);
}

export function encodeValue(value: DuckDBValue, type: SnowflakeColumnType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'fixed':
      if (value instanceof DuckDBDecimalValue) return scaledText(value.value, value.scale);
      if (typeof value === 'bigint' || typeof value === 'number') return String(value);
      return String(value);
    case 'real':
      if (typeof value === 'number') return realText(value);
      if (value instanceof DuckDBDecimalValue) return scaledText(value.value, value.scale);
      return String(value);
    case 'boolean':
      return value === true ? 'TRUE' : value === false ? 'FALSE' : String(value).toUpperCase();
    case 'date':
      if (value instanceof DuckDBDateValue) return String(value.days);
      return String(value);
    case 'time':
      if (value instanceof DuckDBTimeValue) return scaledText(value.micros * 1000n, 9);
      return String(value);
    case 'timestamp_ntz':
    case 'timestamp_ltz':
      if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
        return scaledText(value.micros * 1000n, 9);
      }
      return String(value);
    case 'timestamp_tz':
      // DuckDB keeps the instant, not the offset it was written with: every value reads back in UTC.
      if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
        return `${scaledText(value.micros * 1000n, 9)} 1440`;
      }
      return String(value);
    case 'binary':
      if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString('hex').toUpperCase();
      return String(value);
    case 'variant':
    case 'object':
    case 'array':
      return typeof value === 'string' ? value : JSON.stringify(String(value));
    default:
      if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString('hex').toUpperCase();
      return typeof value === 'string' ? value : String(value);
  }
}
