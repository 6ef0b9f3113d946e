// Snowflake's CSV format type options (CREATE FILE FORMAT, a stage's FILE_FORMAT, COPY's FILE_FORMAT): which exist,
// what values each takes and its documented default (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table).
import { getFileFormat, type Options } from '../catalog';
import { type Ctx, qualify } from '../context';
import { SnowflakeSqlError } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import { invalidParameter } from '../parameters';
import { optString } from '../sql-options';
import type { CsvDialect } from './csv-reader';

export interface CsvFormat {
  readonly dialect: CsvDialect;
  readonly compression: string;
  readonly skipHeader: number;
  readonly parseHeader: boolean;
  readonly nullIf: readonly string[];
  readonly emptyAsNull: boolean;
  readonly columnCountMismatchIsError: boolean;
  readonly replaceInvalidCharacters: boolean;
  /** DATE_FORMAT, TIME_FORMAT, TIMESTAMP_FORMAT: AUTO means the session's *_INPUT_FORMAT. */
  readonly dateFormat: string;
  readonly timeFormat: string;
  readonly timestampFormat: string;
  readonly binaryFormat: 'HEX' | 'BASE64' | 'UTF8';
}

/** A named file format a statement uses, for its USAGE check. */
export type FormatName = readonly string[];

type OptionKind = 'boolean' | 'integer' | 'string' | 'character' | 'list' | readonly string[];

/** "formatTypeOptions ::= -- If TYPE = CSV", plus TYPE, FORMAT_NAME and CREATE FILE FORMAT's COMMENT. */
const CSV_OPTIONS: Readonly<Record<string, OptionKind>> = {
  TYPE: ['CSV', 'JSON', 'AVRO', 'ORC', 'PARQUET', 'XML', 'CUSTOM'],
  FORMAT_NAME: 'string',
  COMMENT: 'string',
  COMPRESSION: ['AUTO', 'GZIP', 'BZ2', 'BROTLI', 'ZSTD', 'DEFLATE', 'RAW_DEFLATE', 'NONE'],
  RECORD_DELIMITER: 'string',
  FIELD_DELIMITER: 'string',
  MULTI_LINE: 'boolean',
  FILE_EXTENSION: 'string',
  PARSE_HEADER: 'boolean',
  SKIP_HEADER: 'integer',
  SKIP_BLANK_LINES: 'boolean',
  DATE_FORMAT: 'string',
  TIME_FORMAT: 'string',
  TIMESTAMP_FORMAT: 'string',
  BINARY_FORMAT: ['HEX', 'BASE64', 'UTF8'],
  ESCAPE: 'character',
  ESCAPE_UNENCLOSED_FIELD: 'character',
  TRIM_SPACE: 'boolean',
  FIELD_OPTIONALLY_ENCLOSED_BY: 'character',
  NULL_IF: 'list',
  ERROR_ON_COLUMN_COUNT_MISMATCH: 'boolean',
  REPLACE_INVALID_CHARACTERS: 'boolean',
  EMPTY_FIELD_AS_NULL: 'boolean',
  SKIP_BYTE_ORDER_MARK: 'boolean',
  ENCODING: 'string',
};

/** The character sets of ENCODING that the stand-in decodes, as TextDecoder labels. */
const ENCODINGS: Readonly<Record<string, string>> = {
  UTF8: 'utf-8',
  UTF16: 'utf-16le',
  UTF16LE: 'utf-16le',
  UTF16BE: 'utf-16be',
  ISO88591: 'iso-8859-1',
  WINDOWS1252: 'windows-1252',
};

/** The other character sets ENCODING lists: documented, and not read by the stand-in. */
const OTHER_ENCODINGS = new Set([
  'BIG5',
  'EUCJP',
  'EUCKR',
  'GB18030',
  'IBM420',
  'IBM424',
  'IBM949',
  'ISO2022CN',
  'ISO2022JP',
  'ISO2022KR',
  'ISO88592',
  'ISO88595',
  'ISO88596',
  'ISO88597',
  'ISO88598',
  'ISO88599',
  'ISO885915',
  'KOI8R',
  'SHIFTJIS',
  'UTF32',
  'UTF32BE',
  'UTF32LE',
  'WINDOWS874',
  'WINDOWS949',
  'WINDOWS1250',
  'WINDOWS1251',
  'WINDOWS1253',
  'WINDOWS1254',
  'WINDOWS1255',
  'WINDOWS1256',
]);

function invalidValue(key: string, value: unknown): SnowflakeSqlError {
  return new SnowflakeSqlError(
    '001006',
    '22023',
    `SQL compilation error:\ninvalid value [${Array.isArray(value) ? `(${value.join(', ')})` : String(value)}] for file format option '${key}'`,
  );
}

/** Checks a format option list as written; throws for a name Snowflake has not, or a value it refuses. */
export function checkFormatOptions(options: Options): void {
  for (const [key, value] of Object.entries(options)) {
    const kind = CSV_OPTIONS[key];
    if (!kind) throw invalidParameter(key);
    if (typeof value === 'object' && !Array.isArray(value)) throw invalidValue(key, '(...)');
    if (kind === 'list') {
      if (!Array.isArray(value) && typeof value !== 'string') throw invalidValue(key, value);
      continue;
    }
    if (Array.isArray(value)) throw invalidValue(key, value);
    const v = value as string;
    if (kind === 'boolean' && !/^(TRUE|FALSE)$/i.test(v)) throw invalidValue(key, v);
    if (kind === 'integer' && !/^\d+$/.test(v)) throw invalidValue(key, v);
    if (kind === 'character' && v.toUpperCase() !== 'NONE' && characterOf(v) === undefined)
      throw invalidValue(key, v);
    if (Array.isArray(kind) && !kind.includes(v.toUpperCase())) throw invalidValue(key, v);
  }
  const type = (optString(options, 'TYPE') ?? 'CSV').toUpperCase();
  if (type !== 'CSV') throw unsupported(`file format TYPE = ${type} (only CSV)`);
  const encoding = optString(options, 'ENCODING')?.toUpperCase();
  if (encoding !== undefined && !ENCODINGS[encoding]) {
    if (OTHER_ENCODINGS.has(encoding)) throw unsupported(`ENCODING = '${encoding}'`);
    throw invalidValue('ENCODING', encoding);
  }
  const compression = optString(options, 'COMPRESSION')?.toUpperCase();
  if (compression === 'BZ2') throw unsupported(`COMPRESSION = ${compression}`);
  if (optString(options, 'RECORD_DELIMITER')?.toUpperCase() === 'NONE')
    throw unsupported('RECORD_DELIMITER = NONE');
  // "Note that the SKIP_HEADER option is not supported with PARSE_HEADER = TRUE."
  if (
    /^TRUE$/i.test(optString(options, 'PARSE_HEADER') ?? '') &&
    Number(optString(options, 'SKIP_HEADER') ?? 0) > 0
  ) {
    throw new SnowflakeSqlError(
      '002089',
      '22023',
      'SQL compilation error:\nSKIP_HEADER is not supported with PARSE_HEADER = TRUE.',
    );
  }
}

/**
 * A one-byte option value as written: a character, or a hex (`0x5e`) value; escape sequences and octal
 * values have been read by the string literal already. "This file format option supports singlebyte
 * characters only."
 */
function characterOf(value: string): string | undefined {
  if (/^0x[0-9a-f]{1,2}$/i.test(value)) return String.fromCharCode(Number.parseInt(value.slice(2), 16));
  return value.length === 1 && value.charCodeAt(0) < 0x80 ? value : undefined;
}

function delimiterOf(value: string): string {
  if (/^(0x[0-9a-f]{2})+$/i.test(value)) {
    return Buffer.from(value.replace(/0x/gi, ''), 'hex').toString('utf8');
  }
  return value;
}

/** A FILE_FORMAT = (...) list: either a FORMAT_NAME or options, not both. */
async function expand(ctx: Ctx, layer: Options, used: FormatName[]): Promise<Options> {
  checkFormatOptions(layer);
  const named = optString(layer, 'FORMAT_NAME');
  if (named === undefined) return layer;
  if (Object.keys(layer).length > 1) {
    // "FORMAT_NAME and TYPE are mutually exclusive; specifying both in the same COPY command might result in
    // unexpected behavior."
    throw unsupported(
      'FORMAT_NAME together with other file format options: the documentation leaves the outcome open',
    );
  }
  const parts = qualify(ctx.session, splitName(named), 'COPY');
  const format = await getFileFormat(ctx.conn, parts);
  if (!format) throw objectMissing(parts, 'File format');
  used.push(parts);
  return format;
}

/** `db.schema.name` as a FORMAT_NAME string writes it: unquoted parts upper-cased, quoted ones kept. */
export function splitName(text: string): string[] {
  const parts: string[] = [];
  const re = /"((?:[^"]|"")*)"|([^.]+)/g;
  for (const m of text.matchAll(re))
    parts.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : (m[2] as string).toUpperCase());
  return parts;
}

function sameOptions(a: Options, b: Options): boolean {
  const norm = (o: Options) =>
    JSON.stringify(
      Object.entries(o)
        .filter(([k]) => k !== 'COMMENT')
        .map(([k, v]) => [k, typeof v === 'string' ? v.toUpperCase() : v])
        .sort(),
    );
  return norm(a) === norm(b);
}

/**
 * The format a COPY reads with: its own FILE_FORMAT or the stage's. When both are given and differ the COPY
 * is refused: how the two combine is not documented.
 */
export async function resolveFormat(
  ctx: Ctx,
  stageFormat: Options,
  copyFormat: Options | undefined,
): Promise<{ format: CsvFormat; used: FormatName[] }> {
  const used: FormatName[] = [];
  const stage = await expand(ctx, stageFormat, used);
  let options = stage;
  if (copyFormat) {
    const own = await expand(ctx, copyFormat, used);
    if (Object.keys(stageFormat).length > 0 && !sameOptions(stage, own)) {
      throw unsupported(
        "a COPY FILE_FORMAT that differs from the stage's own: how the two combine is not documented",
      );
    }
    options = own;
  }
  return { format: csvFormat(options), used };
}

const bool = (options: Options, key: string, fallback: boolean): boolean => {
  const v = optString(options, key);
  return v === undefined ? fallback : /^TRUE$/i.test(v);
};

const character = (options: Options, key: string, fallback: string): string => {
  const v = optString(options, key);
  if (v === undefined) return fallback;
  return v.toUpperCase() === 'NONE' ? '' : (characterOf(v) as string);
};

/** Options with the documented default for each one not given. */
export function csvFormat(options: Options): CsvFormat {
  const fieldDelimiter = optString(options, 'FIELD_DELIMITER');
  const recordDelimiter = optString(options, 'RECORD_DELIMITER');
  const nullIf = options.NULL_IF;
  const encoding = (optString(options, 'ENCODING') ?? 'UTF8').toUpperCase();
  return {
    dialect: {
      fieldDelimiter:
        fieldDelimiter === undefined
          ? ','
          : fieldDelimiter.toUpperCase() === 'NONE'
            ? null
            : delimiterOf(fieldDelimiter),
      recordDelimiter:
        recordDelimiter === undefined || recordDelimiter === '\n' ? null : delimiterOf(recordDelimiter),
      enclosure: character(options, 'FIELD_OPTIONALLY_ENCLOSED_BY', ''),
      escape: character(options, 'ESCAPE', ''),
      escapeUnenclosed: character(options, 'ESCAPE_UNENCLOSED_FIELD', '\\'),
      multiLine: bool(options, 'MULTI_LINE', true),
      trimSpace: bool(options, 'TRIM_SPACE', false),
      skipBlankLines: bool(options, 'SKIP_BLANK_LINES', false),
      encoding: ENCODINGS[encoding] as string,
      skipByteOrderMark: bool(options, 'SKIP_BYTE_ORDER_MARK', true),
    },
    compression: (optString(options, 'COMPRESSION') ?? 'AUTO').toUpperCase(),
    skipHeader: Number(optString(options, 'SKIP_HEADER') ?? '0'),
    parseHeader: bool(options, 'PARSE_HEADER', false),
    // Default `\N` "(that is, NULL, which assumes the ESCAPE_UNENCLOSED_FIELD value is \\ (default))".
    nullIf: nullIf === undefined ? ['\\N'] : Array.isArray(nullIf) ? nullIf : [nullIf as string],
    emptyAsNull: bool(options, 'EMPTY_FIELD_AS_NULL', true),
    columnCountMismatchIsError: bool(options, 'ERROR_ON_COLUMN_COUNT_MISMATCH', true),
    replaceInvalidCharacters: bool(options, 'REPLACE_INVALID_CHARACTERS', false),
    dateFormat: optString(options, 'DATE_FORMAT') ?? 'AUTO',
    timeFormat: optString(options, 'TIME_FORMAT') ?? 'AUTO',
    timestampFormat: optString(options, 'TIMESTAMP_FORMAT') ?? 'AUTO',
    binaryFormat: (optString(options, 'BINARY_FORMAT') ?? 'HEX').toUpperCase() as CsvFormat['binaryFormat'],
  };
}
