// The text forms Snowflake accepts for each data type when loading, and their ranges: numbers, floats and
// their special values, booleans, dates and times, strings and their lengths, binary and VARIANT.
import {
  civilFromDays,
  type DateParts,
  instantOf,
  parseDate,
  parseTime,
  parseTimestamp,
  type TimeParts,
} from './datetime-input';
import { SnowflakeSqlError } from './engine-types';
import { conversionError, unsupported } from './errors';
import { fractionDigits, MAX_TEXT_LENGTH, type SfType } from './sf-types';
import { parseVariant } from './variant-json';

/** What a conversion depends on besides the text: the input formats and time zone in effect. */
export interface InputSettings {
  readonly dateFormat: string;
  readonly timeFormat: string;
  readonly timestampFormat: string;
  /** TIMEZONE, for TIMESTAMP_LTZ and TIMESTAMP_TZ values written without an offset. */
  readonly timeZone: string;
  readonly binaryFormat: 'HEX' | 'BASE64' | 'UTF8';
  /** TRUNCATECOLUMNS (the reverse of ENFORCE_LENGTH): cut strings to the column's length. */
  readonly truncateColumns: boolean;
}

/**
 * A field's value in a form DuckDB casts exactly to the column's type, or Snowflake's error for it. The
 * forms the documentation does not settle are refused with the stand-in's own error (thrown, not returned).
 */
export type Converted =
  | { readonly ok: true; readonly text: string | null }
  | { readonly ok: false; readonly error: SnowflakeSqlError };

const ok = (text: string | null): Converted => ({ ok: true, text });
const bad = (error: SnowflakeSqlError): Converted => ({ ok: false, error });

/** "[+-][digits][.digits][e[+-]digits]", the numeric constants of data-types-numeric. */
const NUMERIC_CONSTANT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function number(text: string, sf: SfType): Converted {
  const m = NUMERIC_CONSTANT.exec(text);
  const [, sign = '', int = '', frac = '', exp] = m ?? [];
  if (!m || int + frac === '') return bad(conversionError(text, sf.duck));
  // Move the decimal point by the exponent, in text, so that no digit is lost to a float.
  const shift = Number(exp ?? 0);
  let digits = `${int}${frac}`;
  let point = int.length + shift;
  if (point < 0) {
    digits = `${'0'.repeat(-point)}${digits}`;
    point = 0;
  }
  if (point > digits.length) digits = `${digits}${'0'.repeat(point - digits.length)}`;
  const whole = digits.slice(0, point).replace(/^0+/, '');
  const fraction = digits.slice(point);
  const precision = sf.precision ?? 38;
  const scale = sf.scale ?? 0;
  // "you can't load a value into a NUMBER column if the number of digits to the left of the decimal point
  // exceeds the precision of the column minus its scale".
  if (whole.length > precision - scale) {
    return bad(new SnowflakeSqlError('100039', '22003', `Numeric value '${text}' is out of range`));
  }
  const kept = fraction.slice(0, scale);
  if (/[1-9]/.test(fraction.slice(scale))) {
    throw unsupported(
      `loading '${text}' into ${sf.canonical}: whether Snowflake rounds or truncates digits past the scale is not documented`,
    );
  }
  const zero = /^0*$/.test(whole) && /^0*$/.test(kept);
  return ok(
    `${zero ? '' : sign === '-' ? '-' : ''}${whole || '0'}${scale > 0 ? `.${kept.padEnd(scale, '0')}` : ''}`,
  );
}

/** "Snowflake supports the following special values for FLOAT: 'NaN', 'inf', '-inf' ... case-insensitive." */
function float(text: string): Converted {
  const lower = text.toLowerCase();
  if (lower === 'nan') return ok('nan');
  if (lower === 'inf') return ok('inf');
  if (lower === '-inf') return ok('-inf');
  if (/^[+-]?(inf|infinity|nan)$/.test(lower)) {
    throw unsupported(`the FLOAT value '${text}': the documented spellings are 'NaN', 'inf' and '-inf'`);
  }
  const m = NUMERIC_CONSTANT.exec(text);
  if (!m || `${m[2] ?? ''}${m[3] ?? ''}` === '') return bad(conversionError(text, 'DOUBLE'));
  const value = Number(text);
  // Beyond the range of a double a value is infinity (FLOAT '123e7000' reads back `inf` in the page's example).
  return ok(Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf');
}

/** The strings "Logical data types" lists for TRUE and FALSE, case-insensitive. */
function boolean(text: string): Converted {
  const lower = text.toLowerCase();
  if (['true', 't', 'yes', 'y', 'on', '1'].includes(lower)) return ok('true');
  if (['false', 'f', 'no', 'n', 'off', '0'].includes(lower)) return ok('false');
  return bad(conversionError(text, 'BOOLEAN'));
}

/**
 * Fraction digits as DuckDB keeps them (microseconds). Digits past the declared precision, or past the
 * microsecond, are refused: whether they round or truncate is not documented, and DuckDB cannot keep them.
 */
function micros(fraction: string, sf: SfType, text: string): string {
  const p = fractionDigits(sf);
  if (/[1-9]/.test(fraction.slice(p))) {
    throw unsupported(
      `'${text}' has more fraction digits than ${sf.canonical} keeps, and how Snowflake rounds them is not documented`,
    );
  }
  if (/[1-9]/.test(fraction.slice(6)))
    throw unsupported(`nanoseconds ('${text}'): the stand-in keeps microseconds`);
  return fraction.slice(0, 6).padEnd(6, '0');
}

function dateText({ year, month, day }: DateParts): string {
  // DuckDB writes year 0 and earlier (UUUU reads negative years) as 1 BC and earlier.
  return year > 0
    ? `${pad(year, 4)}-${pad(month)}-${pad(day)}`
    : `${pad(1 - year, 4)}-${pad(month)}-${pad(day)} (BC)`;
}

function timeText(t: TimeParts, sf: SfType, text: string): string {
  return `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}.${micros(t.fraction, sf, text)}`;
}

function datetime(text: string, sf: SfType, settings: InputSettings): Converted {
  switch (sf.wire) {
    case 'date': {
      const d = parseDate(text, settings.dateFormat);
      return d ? ok(dateText(d)) : bad(conversionError(text, 'DATE'));
    }
    case 'time': {
      // "All TIME values must be between 00:00:00 and 23:59:59.999999999": 24:00:00 does not match HH24.
      const t = parseTime(text, settings.timeFormat);
      return t ? ok(timeText(t, sf, text)) : bad(conversionError(text, 'TIME'));
    }
    case 'timestamp_ntz': {
      // TIMESTAMP_NTZ "time zone, if provided, isn't stored": the wallclock time is kept as written.
      const t = parseTimestamp(text, settings.timestampFormat);
      return t ? ok(`${dateText(t)} ${timeText(t, sf, text)}`) : bad(conversionError(text, 'TIMESTAMP'));
    }
    default: {
      const t = parseTimestamp(text, settings.timestampFormat);
      if (!t) return bad(conversionError(text, 'TIMESTAMP'));
      const instant = instantOf(t, settings.timeZone);
      const days = Math.floor(instant / 86_400);
      const seconds = instant - days * 86_400;
      const time = {
        hour: Math.floor(seconds / 3600),
        minute: Math.floor((seconds % 3600) / 60),
        second: seconds % 60,
        fraction: t.fraction,
      };
      return ok(`${dateText(civilFromDays(days))} ${timeText(time, sf, text)}+00`);
    }
  }
}

function text(value: string, sf: SfType, settings: InputSettings): Converted {
  const length = sf.length ?? MAX_TEXT_LENGTH;
  const chars = [...value];
  if (chars.length > length || Buffer.byteLength(value) > MAX_TEXT_LENGTH) {
    if (settings.truncateColumns) return ok(chars.slice(0, length).join(''));
    return bad(
      new SnowflakeSqlError(
        '100074',
        '22001',
        `String '${value.slice(0, 100)}' is too long and would be truncated`,
      ),
    );
  }
  return ok(value);
}

/** BINARY_FORMAT: HEX (the default), BASE64 or UTF8, written as hex for DuckDB's unhex. */
function binary(value: string, settings: InputSettings): Converted {
  const invalid = () =>
    bad(
      new SnowflakeSqlError(
        '100115',
        '22000',
        `The following string is not a legal ${settings.binaryFormat.toLowerCase()}-encoded value: '${value}'`,
      ),
    );
  switch (settings.binaryFormat) {
    case 'HEX':
      return /^([0-9A-Fa-f]{2})*$/.test(value) ? ok(value.toUpperCase()) : invalid();
    case 'BASE64':
      return /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0
        ? ok(Buffer.from(value, 'base64').toString('hex').toUpperCase())
        : invalid();
    default:
      return ok(Buffer.from(value, 'utf8').toString('hex').toUpperCase());
  }
}

/** A loaded field's text converted for its column, per Snowflake's documented input forms. */
export function convertText(value: string, sf: SfType, settings: InputSettings): Converted {
  switch (sf.wire) {
    case 'fixed':
      return number(value, sf);
    case 'real':
      return float(value);
    case 'boolean':
      return boolean(value);
    case 'date':
    case 'time':
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz':
      return datetime(value, sf, settings);
    case 'binary':
      return binary(value, settings);
    case 'variant':
    case 'object':
    case 'array': {
      try {
        const json = parseVariant(value);
        if (json === undefined) return ok(null);
        if (sf.wire === 'object' && !json.startsWith('{')) return bad(conversionError(value, 'JSON'));
        if (sf.wire === 'array' && !json.startsWith('[')) return bad(conversionError(value, 'JSON'));
        return ok(json);
      } catch (err) {
        if (err instanceof SnowflakeSqlError && err.code === '100069') return bad(err);
        throw err;
      }
    }
    default:
      return text(value, sf, settings);
  }
}

/** The DuckDB expression that turns a converted text column into the column's type. */
export function castFromText(column: string, sf: SfType): string {
  switch (sf.wire) {
    case 'text':
      return column;
    case 'binary':
      return `unhex(${column})`;
    case 'fixed': {
      // DuckDB reads text into a DECIMAL wider than 18 digits a few hundred times slower than into one of
      // 18; text short enough to fit one goes through it, with the same value.
      const scale = sf.scale ?? 0;
      if ((sf.precision ?? 38) <= 18 || scale >= 18) return `CAST(${column} AS ${sf.duck})`;
      return `CASE WHEN strlen(${column}) <= ${18 - scale} THEN CAST(CAST(${column} AS DECIMAL(18,${scale})) AS ${sf.duck}) ELSE CAST(${column} AS ${sf.duck}) END`;
    }
    default:
      // JSON by CAST keeps the text as converted (json() would write its numbers its own way).
      return `CAST(${column} AS ${sf.duck})`;
  }
}
