// Snowflake's date, time and timestamp input formats (https://docs.snowflake.com/en/sql-reference/date-time-input-output):
// the format elements, the formats AUTO detects, the valid range of each field, and the session time zone.
import { unsupported } from './errors';

export interface DateParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface TimeParts {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** The fraction digits as written (0 to 9 of them). */
  readonly fraction: string;
}

export interface TimestampParts extends DateParts, TimeParts {
  /** The offset the value was written with, in minutes east of UTC; undefined when it has none. */
  readonly offsetMinutes: number | undefined;
}

/** "Supported formats for AUTO detection", date formats. */
const DATE_AUTO = ['YYYY-MM-DD', 'DD-MON-YYYY', 'MM/DD/YYYY'];

/** "Supported formats for AUTO detection", time formats. */
const TIME_AUTO = [
  'HH24:MI:SS.FFTZH:TZM',
  'HH24:MI:SS.FF',
  'HH24:MI:SS',
  'HH24:MI',
  'HH12:MI:SS.FF AM',
  'HH12:MI:SS AM',
  'HH12:MI AM',
];

/** "Supported formats for AUTO detection", timestamp formats (ISO, RFC and other), in the table's order. */
const TIMESTAMP_AUTO = [
  'YYYY-MM-DD"T"HH24:MI:SS.FFTZH:TZM',
  'YYYY-MM-DD HH24:MI:SS.FFTZH:TZM',
  'YYYY-MM-DD HH24:MI:SS.FFTZH',
  'YYYY-MM-DD HH24:MI:SS.FF TZH:TZM',
  'YYYY-MM-DD HH24:MI:SS.FF TZHTZM',
  'YYYY-MM-DD HH24:MI:SS TZH:TZM',
  'YYYY-MM-DD HH24:MI:SS TZHTZM',
  'YYYY-MM-DD"T"HH24:MI:SS.FF',
  'YYYY-MM-DD HH24:MI:SS.FF',
  'YYYY-MM-DD"T"HH24:MI:SS',
  'YYYY-MM-DD HH24:MI:SS',
  'YYYY-MM-DD"T"HH24:MI',
  'YYYY-MM-DD HH24:MI',
  'YYYY-MM-DD"T"HH24',
  'YYYY-MM-DD HH24',
  'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM',
  'YYYY-MM-DD HH24:MI:SSTZH:TZM',
  'YYYY-MM-DD HH24:MI:SSTZH',
  'YYYY-MM-DD"T"HH24:MITZH:TZM',
  'YYYY-MM-DD HH24:MITZH:TZM',
  'DY, DD MON YYYY HH24:MI:SS TZHTZM',
  'DY, DD MON YYYY HH24:MI:SS.FF TZHTZM',
  'DY, DD MON YYYY HH12:MI:SS AM TZHTZM',
  'DY, DD MON YYYY HH12:MI:SS.FF AM TZHTZM',
  'DY, DD MON YYYY HH24:MI:SS',
  'DY, DD MON YYYY HH24:MI:SS.FF',
  'DY, DD MON YYYY HH12:MI:SS AM',
  'DY, DD MON YYYY HH12:MI:SS.FF AM',
  'MM/DD/YYYY HH24:MI:SS',
  'DY MON DD HH24:MI:SS TZHTZM YYYY',
];

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MONTH_NAMES = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'];

type PartKind =
  | 'year'
  | 'year2'
  | 'uyear'
  | 'month'
  | 'monthName'
  | 'day'
  | 'dayName'
  | 'hour24'
  | 'hour12'
  | 'ampm'
  | 'minute'
  | 'second'
  | 'fraction'
  | 'tzhm'
  | 'tzhtzm'
  | 'tzh';

interface Compiled {
  readonly regex: RegExp;
  readonly parts: readonly PartKind[];
}

/** Format elements, longest first so that `HH24` is not read as `HH` and `24`. */
const ELEMENTS: readonly (readonly [string, PartKind])[] = [
  ['TZH:TZM', 'tzhm'],
  ['TZHTZM', 'tzhtzm'],
  ['HH24', 'hour24'],
  ['HH12', 'hour12'],
  ['MMMM', 'monthName'],
  ['YYYY', 'year'],
  ['UUUU', 'uyear'],
  ['TZH', 'tzh'],
  ['MON', 'monthName'],
  ['YY', 'year2'],
  ['MM', 'month'],
  ['DD', 'day'],
  ['DY', 'dayName'],
  ['AM', 'ampm'],
  ['PM', 'ampm'],
  ['MI', 'minute'],
  ['SS', 'second'],
];

const DIGIT_PARTS = new Set<PartKind>([
  'year',
  'year2',
  'uyear',
  'month',
  'day',
  'hour24',
  'hour12',
  'minute',
  'second',
  'fraction',
]);

const cache = new Map<string, Compiled>();

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A format string turned into an anchored, case-insensitive regular expression. */
function compile(format: string): Compiled {
  const known = cache.get(format);
  if (known) return known;
  let source = '';
  const parts: PartKind[] = [];
  let i = 0;
  const upper = format.toUpperCase();
  while (i < format.length) {
    if (format[i] === '"') {
      const end = format.indexOf('"', i + 1);
      const literal = format.slice(i + 1, end < 0 ? format.length : end);
      source += escapeRegex(literal);
      i = end < 0 ? format.length : end + 1;
      continue;
    }
    const ff = /^FF([0-9]?)/.exec(upper.slice(i));
    if (ff) {
      const digits = ff[1] === '' ? 9 : Number(ff[1]);
      source += digits === 0 ? '()' : `(\\d{1,${digits}})`;
      parts.push('fraction');
      i += ff[0].length;
      continue;
    }
    const element = ELEMENTS.find(([text]) => upper.startsWith(text, i));
    if (element) {
      const [text, kind] = element;
      // "When a timezone offset ... occurs immediately after a digit ..., the offset must start with + or -."
      const sign = DIGIT_PARTS.has(parts.at(-1) as PartKind) && /\d$|\)$/.test(source) ? '[+-]' : '[+-]?';
      source += (
        {
          year: '(\\d{1,4})',
          year2: '(\\d{1,2})',
          uyear: '([+-]?\\d{1,4})',
          month: '(\\d{1,2})',
          monthName: '([A-Za-z]+)',
          day: '(\\d{1,2})',
          dayName: '([A-Za-z]+)',
          hour24: '(\\d{1,2})',
          hour12: '(\\d{1,2})',
          ampm: '([AaPp][Mm])',
          minute: '(\\d{1,2})',
          second: '(\\d{1,2})',
          fraction: '',
          tzhm: `(${sign}\\d{1,2}):(\\d{1,2})`,
          tzhtzm: `(${sign}\\d{2})(\\d{2})`,
          tzh: `(${sign}\\d{1,2})`,
        } as const
      )[kind];
      parts.push(kind);
      i += text.length;
      continue;
    }
    // "Anything in the format ... other than the above elements is parsed/formatted without being interpreted."
    source += escapeRegex(format[i] as string);
    i++;
  }
  const compiled = { regex: new RegExp(`^${source}$`), parts };
  cache.set(format, compiled);
  return compiled;
}

interface Fields {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  fraction?: string;
  offsetMinutes?: number;
  pm?: boolean;
  twelveHour?: boolean;
}

function monthOf(name: string): number | undefined {
  const n = name.toUpperCase();
  const abbreviated = MONTHS.indexOf(n);
  if (abbreviated >= 0) return abbreviated + 1;
  const full = MONTH_NAMES.indexOf(n);
  return full >= 0 ? full + 1 : undefined;
}

/** Reads `text` with one format; undefined when it does not match or a field is out of its range. */
function read(text: string, format: string): Fields | undefined {
  const { regex, parts } = compile(format);
  const m = regex.exec(text);
  if (!m) return undefined;
  const f: Fields = {};
  let g = 1;
  for (const kind of parts) {
    const v = m[g++] as string;
    switch (kind) {
      case 'year':
      case 'uyear':
        f.year = Number(v);
        break;
      case 'year2': {
        // TWO_DIGIT_CENTURY_START's default, 1970: 70-99 are 19xx, 00-69 are 20xx.
        const yy = Number(v);
        f.year = yy >= 70 ? 1900 + yy : 2000 + yy;
        break;
      }
      case 'month':
        f.month = Number(v);
        break;
      case 'monthName': {
        const month = monthOf(v);
        if (month === undefined) return undefined;
        f.month = month;
        break;
      }
      case 'day':
        f.day = Number(v);
        break;
      case 'dayName':
        if (!DAYS.includes(v.toUpperCase())) return undefined;
        break;
      case 'hour24':
        f.hour = Number(v);
        break;
      case 'hour12':
        f.hour = Number(v);
        f.twelveHour = true;
        break;
      case 'ampm':
        f.pm = v.toUpperCase() === 'PM';
        break;
      case 'minute':
        f.minute = Number(v);
        break;
      case 'second':
        f.second = Number(v);
        break;
      case 'fraction':
        f.fraction = v;
        break;
      case 'tzhm':
      case 'tzhtzm': {
        const hours = Number(v);
        const minutes = Number(m[g++]);
        if (Math.abs(hours) > 14 || minutes > 59) return undefined;
        f.offsetMinutes = (v.startsWith('-') ? -1 : 1) * (Math.abs(hours) * 60 + minutes);
        break;
      }
      case 'tzh': {
        const hours = Number(v);
        if (Math.abs(hours) > 14) return undefined;
        f.offsetMinutes = hours * 60;
        break;
      }
    }
  }
  return valid(f) ? f : undefined;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** "Valid ranges of values for fields": months 1-12, days to the month's length, 00-23, 00-59, 00-59. */
function valid(f: Fields): boolean {
  if (f.twelveHour) {
    if (f.hour === undefined || f.hour < 1 || f.hour > 12) return false;
    f.hour = (f.hour % 12) + (f.pm ? 12 : 0);
  }
  if (f.month !== undefined && (f.month < 1 || f.month > 12)) return false;
  if (f.day !== undefined) {
    const lengths = [31, isLeap(f.year ?? 2000) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (f.day < 1 || f.day > (lengths[(f.month ?? 1) - 1] as number)) return false;
  }
  if (f.hour !== undefined && (f.hour < 0 || f.hour > 23)) return false;
  if (f.minute !== undefined && f.minute > 59) return false;
  // "values 60 and 61 are rejected".
  if (f.second !== undefined && f.second > 59) return false;
  return true;
}

function formats(format: string, auto: readonly string[]): readonly string[] {
  return format.toUpperCase() === 'AUTO' ? auto : [format];
}

/**
 * Quoted integers ("seconds, milliseconds, ... since the epoch") are a documented but deprecated AUTO form;
 * the stand-in refuses them rather than guess their unit.
 */
function refuseEpochInteger(text: string, format: string): void {
  if (format.toUpperCase() === 'AUTO' && /^[+-]?\d+$/.test(text)) {
    throw unsupported(`the deprecated integer form of a date, time or timestamp ('${text}')`);
  }
}

function firstMatch(text: string, list: readonly string[]): Fields | undefined {
  for (const format of list) {
    const f = read(text, format);
    if (f) return f;
  }
  return undefined;
}

/** A DATE from text: the date formats, and every timestamp form with its time dropped. */
export function parseDate(text: string, format: string): DateParts | undefined {
  refuseEpochInteger(text, format);
  const f = firstMatch(text, formats(format, [...DATE_AUTO, ...TIMESTAMP_AUTO]));
  if (!f || f.year === undefined || f.month === undefined || f.day === undefined) return undefined;
  return { year: f.year, month: f.month, day: f.day };
}

/** A TIME from text; an offset written with it is read and not kept (TIME is wallclock time). */
export function parseTime(text: string, format: string): TimeParts | undefined {
  refuseEpochInteger(text, format);
  const f = firstMatch(text, formats(format, TIME_AUTO));
  if (!f || f.hour === undefined) return undefined;
  return { hour: f.hour, minute: f.minute ?? 0, second: f.second ?? 0, fraction: f.fraction ?? '' };
}

/** A timestamp from text; a date-only format means midnight. */
export function parseTimestamp(text: string, format: string): TimestampParts | undefined {
  refuseEpochInteger(text, format);
  const f = firstMatch(text, formats(format, TIMESTAMP_AUTO));
  if (!f || f.year === undefined || f.month === undefined || f.day === undefined) return undefined;
  return {
    year: f.year,
    month: f.month,
    day: f.day,
    hour: f.hour ?? 0,
    minute: f.minute ?? 0,
    second: f.second ?? 0,
    fraction: f.fraction ?? '',
    offsetMinutes: f.offsetMinutes,
  };
}

// ---- calendar arithmetic, for timestamps with an offset or a session time zone --------------------------

/** Days since 1970-01-01 of a proleptic Gregorian date (any year, 0 and negative ones included). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): DateParts {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset, in minutes, of an IANA time zone at an instant (seconds since the epoch). */
function zoneOffsetAt(timeZone: string, epochSeconds: number): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(new Date(epochSeconds * 1000)).find((p) => p.type === 'timeZoneName');
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name?.value ?? '');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/**
 * The instant of a wallclock time, as seconds since the epoch: with its own offset, or else the session
 * time zone's offset at that time ("When a time zone isn't provided, the session time zone offset is used").
 */
export function instantOf(t: TimestampParts, timeZone: string): number {
  const local = daysFromCivil(t.year, t.month, t.day) * 86_400 + t.hour * 3600 + t.minute * 60 + t.second;
  if (t.offsetMinutes !== undefined) return local - t.offsetMinutes * 60;
  let guess = local - zoneOffsetAt(timeZone, local) * 60;
  guess = local - zoneOffsetAt(timeZone, guess) * 60;
  return guess;
}
