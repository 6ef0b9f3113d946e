// COPY's bulk path: a staged file in the plain CSV dialect Tally writes is parsed, checked and inserted by DuckDB's
// own CSV reader, and only a file that holds anything else goes through the record-by-record reader of
// load-file.ts. Both give the same rows and the same answer; the plain path is taken only where that is certain.

import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import { SnowflakeSqlError } from '../engine-types';
import { castFromText } from '../input-forms';
import { fractionDigits, MAX_TEXT_LENGTH, type SfType } from '../sf-types';
import { quoteIdent, quoteQualified, sqlString } from '../sql-tokens';
import type { CsvFormat } from './file-format';
import type { LoadColumn } from './statement';

/** How many files this process loaded by the bulk path: the bench and the tests say which path they measured. */
export const bulkLoaded = { files: 0 };

/** What the bulk path needs beyond the file: the target, its columns and the input settings in effect. */
export interface PlainLoadSpec {
  readonly table: readonly string[];
  readonly columns: readonly LoadColumn[];
  readonly format: CsvFormat;
  readonly match: string;
  readonly settings: {
    readonly dateFormat: string;
    readonly timeFormat: string;
    readonly timestampFormat: string;
    readonly binaryFormat: string;
  };
}

/**
 * Whether the file format and the columns allow the bulk path at all: the dialect Tally's file format
 * describes (one-byte field delimiter, new-line records, `"` or no enclosure, no escapes, no NULL_IF, empty
 * fields NULL, UTF-8, no trimming, no header parsing) and AUTO input formats. Anything else is read record
 * by record, as before.
 */
export function plainDialect(spec: PlainLoadSpec): boolean {
  const { format, settings } = spec;
  const d = format.dialect;
  const delimiter = d.fieldDelimiter;
  return (
    delimiter !== null &&
    delimiter.length === 1 &&
    delimiter.charCodeAt(0) < 0x80 &&
    !['"', '\n', '\r', ' '].includes(delimiter) &&
    d.recordDelimiter === null &&
    (d.enclosure === '"' || d.enclosure === '') &&
    d.escape === '' &&
    d.escapeUnenclosed === '' &&
    d.multiLine &&
    !d.trimSpace &&
    d.encoding === 'utf-8' &&
    !format.parseHeader &&
    format.nullIf.length === 0 &&
    format.emptyAsNull &&
    format.columnCountMismatchIsError &&
    spec.match === 'NONE' &&
    [settings.dateFormat, settings.timeFormat, settings.timestampFormat].every(
      (f) => f.toUpperCase() === 'AUTO',
    ) &&
    settings.binaryFormat === 'HEX' &&
    spec.columns.length > 0 &&
    spec.columns.every((c) => simpleForm(quoteIdent('c0'), c.sf) !== undefined)
  );
}

const QUOTE = 0x22;
const NEW_LINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Where a structural scan stands between two bytes. */
enum At {
  RecordStart,
  FieldStart,
  Unenclosed,
  Enclosed,
  /** After a `"` inside an enclosed field: the field's end, or the first half of a doubled `"`. */
  EnclosedQuote,
}

/**
 * Checks, as the bytes pass, that a file is plainly structured: every record has `fields` fields, an
 * enclosure opens a field and closes it right before a delimiter or the record's end, no `"` inside an
 * unenclosed field, no blank line, no carriage return outside an enclosed field, valid UTF-8. On such a
 * file DuckDB's reader and Snowflake's split records and fields alike; on any other the scan says no.
 */
export class PlainScan {
  private at = At.RecordStart;
  private fieldsSeen = 0;
  private recordBytes = 0;
  private carry: Buffer = Buffer.alloc(0);
  records = 0;
  longestRecord = 0;
  plain = true;
  /** 1 for the bytes an unenclosed field cannot hold without ending or failing: delimiter, LF, CR, `"`. */
  private readonly special = new Uint8Array(256);

  constructor(
    private readonly fields: number,
    private readonly delimiter: number,
    private readonly enclosure: boolean,
  ) {
    for (const b of [delimiter, NEW_LINE, CARRIAGE_RETURN, QUOTE]) this.special[b] = 1;
  }

  feed(chunk: Buffer): boolean {
    if (!this.plain) return false;
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = utf8Boundary(bytes);
    if (!isUtf8(bytes.subarray(0, cut))) return this.fail();
    this.carry = Buffer.from(bytes.subarray(cut));
    const delimiter = this.delimiter;
    let at = this.at;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      switch (at) {
        case At.Enclosed: {
          // Whatever an enclosed field holds is data, up to the next quote.
          const q = chunk.indexOf(QUOTE, i);
          if (q < 0) i = chunk.length;
          else {
            i = q;
            at = At.EnclosedQuote;
          }
          continue;
        }
        case At.EnclosedQuote:
          if (b === QUOTE) at = At.Enclosed;
          else if (b === delimiter) {
            this.fieldsSeen++;
            at = At.FieldStart;
          } else if (b === NEW_LINE) {
            this.fieldsSeen++;
            if (!this.endRecord(this.recordBytes + i + 1 - start)) return false;
            start = i + 1;
            at = At.RecordStart;
          } else return this.fail();
          continue;
        default:
          if (b === NEW_LINE) {
            // A blank line is an error in Snowflake and skipped by DuckDB: the record-by-record reader decides.
            if (at === At.RecordStart) return this.fail();
            this.fieldsSeen++;
            if (!this.endRecord(this.recordBytes + i + 1 - start)) return false;
            start = i + 1;
            at = At.RecordStart;
          } else if (b === delimiter) {
            this.fieldsSeen++;
            at = At.FieldStart;
          } else if (b === CARRIAGE_RETURN) {
            return this.fail();
          } else if (b === QUOTE) {
            if (!this.enclosure || at === At.Unenclosed) return this.fail();
            at = At.Enclosed;
          } else {
            // Most of a file is the inside of unenclosed fields: run to the next byte that means anything.
            const special = this.special;
            while (i + 1 < chunk.length && special[chunk[i + 1] as number] === 0) i++;
            at = At.Unenclosed;
          }
      }
    }
    this.recordBytes += chunk.length - start;
    this.at = at;
    return true;
  }

  /** True when the whole file was plain; then `records` is how many it holds. */
  end(): boolean {
    if (!this.plain) return false;
    if (this.carry.length > 0) return this.fail();
    if (this.at === At.Enclosed) return this.fail();
    if (this.at !== At.RecordStart) {
      this.fieldsSeen++;
      return this.endRecord(this.recordBytes);
    }
    return true;
  }

  private endRecord(bytes: number): boolean {
    if (this.fieldsSeen !== this.fields) return this.fail();
    this.records++;
    if (bytes > this.longestRecord) this.longestRecord = bytes;
    this.fieldsSeen = 0;
    this.recordBytes = 0;
    return true;
  }

  private fail(): false {
    this.plain = false;
    return false;
  }
}

/** Where a chunk's last UTF-8 sequence starts when the chunk ends inside it, else the chunk's length. */
function utf8Boundary(bytes: Buffer): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k] as number;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return bytes.length;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return k < need ? bytes.length - k : bytes.length;
  }
  return bytes.length;
}

/**
 * The file's records after SKIP_HEADER's lines ("simply skips the specified number of CRLF ... delimited
 * lines"), written to `body` while the scan checks them; undefined when the file is not plain.
 */
export async function plainBody(
  stream: Readable,
  spec: PlainLoadSpec,
  body: string,
  throwIfCancelled: () => void,
): Promise<PlainScan | undefined> {
  const { format } = spec;
  const scan = new PlainScan(
    spec.columns.length,
    (format.dialect.fieldDelimiter as string).charCodeAt(0),
    format.dialect.enclosure === '"',
  );
  const out = createWriteStream(body);
  let toSkip = format.skipHeader;
  let first = true;
  try {
    for await (const raw of stream) {
      throwIfCancelled();
      let chunk = raw as Buffer;
      // A byte order mark before the first record is skipped by Snowflake's reader: left to it.
      if (first && toSkip === 0 && chunk[0] === 0xef) return undefined;
      first = false;
      while (toSkip > 0 && chunk.length > 0) {
        const nl = chunk.indexOf(NEW_LINE);
        if (nl < 0) chunk = chunk.subarray(chunk.length);
        else {
          chunk = chunk.subarray(nl + 1);
          toSkip--;
        }
      }
      if (chunk.length === 0) continue;
      if (!scan.feed(chunk)) return undefined;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    return scan.end() ? scan : undefined;
  } finally {
    stream.destroy();
    out.end();
    await once(out, 'close');
  }
}

const DATE = '[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]';

function fraction(sf: SfType): string {
  const digits = Math.min(6, fractionDigits(sf));
  return digits === 0 ? '' : `(\\.[0-9]{1,${digits}})?`;
}

const full = (column: string, pattern: string) => `regexp_full_match(${column}, ${sqlString(pattern)})`;
const validDate = (column: string) => `TRY_CAST(substr(${column}, 1, 10) AS DATE) IS NOT NULL`;

/**
 * A SQL condition true exactly for text in a form that the documented input forms accept for the type and
 * that DuckDB's cast reads as the same value as `convertText`'s output (input-forms.ts); undefined for a type
 * the bulk path leaves to the record-by-record reader. A value outside the form sends the whole file there,
 * so the form may be narrow: it only has to be exact.
 */
export function simpleForm(c: string, sf: SfType): string | undefined {
  switch (sf.wire) {
    case 'fixed': {
      // Digits within the precision and the scale, no sign but '-', no exponent, no leading zeros.
      const scale = sf.scale ?? 0;
      const whole = (sf.precision ?? 38) - scale;
      const int = whole === 0 ? '0' : `(0|[1-9][0-9]{0,${whole - 1}})`;
      return full(c, `-?${int}${scale > 0 ? `(\\.[0-9]{1,${scale}})?` : ''}`);
    }
    case 'real':
      // A numeric constant with a finite value; -0 is left out (convertText makes it 0, DuckDB -0.0).
      return `${full(c, '[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?')} AND isfinite(TRY_CAST(${c} AS DOUBLE)) AND (TRY_CAST(${c} AS DOUBLE) <> 0 OR NOT starts_with(${c}, '-'))`;
    case 'boolean':
      return `lower(${c}) IN ('true', 't', 'yes', 'y', 'on', '1', 'false', 'f', 'no', 'n', 'off', '0')`;
    case 'date':
      return `${full(c, DATE)} AND ${validDate(c)}`;
    case 'time':
      return full(c, `${TIME}${fraction(sf)}`);
    case 'timestamp_ntz':
      return `${full(c, `${DATE} ${TIME}${fraction(sf)}`)} AND ${validDate(c)}`;
    case 'timestamp_ltz':
    case 'timestamp_tz':
      // With its own offset (so the session's time zone plays no part), and not in year 9999, whose
      // instant may fall past the largest timestamp.
      return `${full(c, `${DATE} ${TIME}${fraction(sf)}[+-](0[0-9]|1[0-4])(:[0-5][0-9])?`)} AND ${validDate(c)} AND ${c} < '9999'`;
    case 'text': {
      // Characters are never more than bytes: the byte count settles most values without counting characters.
      const length = sf.length ?? MAX_TEXT_LENGTH;
      const bytes = `strlen(${c}) <= ${Math.min(length, MAX_TEXT_LENGTH)}`;
      return length >= MAX_TEXT_LENGTH
        ? bytes
        : `(${bytes} OR (strlen(${c}) <= ${MAX_TEXT_LENGTH} AND length(${c}) <= ${length}))`;
    }
    case 'binary':
      return full(c, '([0-9A-Fa-f]{2})*');
    case 'variant':
    case 'object':
    case 'array': {
      // JSON whose compact form by DuckDB is what PARSE_JSON's reading (variant-json.ts) writes: valid, no
      // backslash at all (so no escapes), no trailing commas (which DuckDB accepts), integers of at most 18
      // digits as its only numbers, and at most one object, at the top, whose keys are distinct. A digit run of
      // 19 or a comma before a closing bracket anywhere, strings included, is enough to go record by record.
      const token = String.raw`[ \t\n\r\[\],:]|"[^"\\]*"|true|false|null|-?(0|[1-9][0-9]{0,17})`;
      const kind =
        sf.wire === 'object'
          ? ` AND json_type(${c}) = 'OBJECT'`
          : sf.wire === 'array'
            ? ` AND json_type(${c}) = 'ARRAY'`
            : '';
      return [
        `json_valid(${c})`,
        `NOT contains(${c}, '\\')`,
        `NOT regexp_matches(${c}, ${sqlString(String.raw`[0-9]{19}|,[ \t\n\r]*[\]}]`)})`,
        full(c, String.raw`[ \t\n\r]*([{](${token})*[}]|(${token})*)[ \t\n\r]*`),
        `(json_type(${c}) <> 'OBJECT' OR len(json_keys(${c})) = len(list_distinct(json_keys(${c}))))`,
      ]
        .join(' AND ')
        .concat(kind);
    }
    default:
      return undefined;
  }
}

/** The DuckDB expression a plain field becomes in its column, the same value `castFromText` gives. */
function plainValue(c: string, sf: SfType): string {
  switch (sf.wire) {
    case 'boolean':
      return `lower(${c}) IN ('true', 't', 'yes', 'y', 'on', '1')`;
    case 'variant':
    case 'object':
    case 'array':
      return `CAST(json(${c}) AS JSON)`;
    default:
      return castFromText(c, sf);
  }
}

function reader(body: string, spec: PlainLoadSpec, scan: PlainScan): string {
  const d = spec.format.dialect;
  const maxLine = Math.max(2_097_152, scan.longestRecord + 1);
  const columns = spec.columns.map((_c, i) => `${sqlString(`c${i}`)}: 'VARCHAR'`).join(', ');
  return `read_csv(${sqlString(body)}, auto_detect = false, header = false, delim = ${sqlString(d.fieldDelimiter as string)}, quote = ${sqlString(d.enclosure === '"' ? '"' : '')}, escape = ${sqlString(d.enclosure === '"' ? '"' : '')}, new_line = '\\n', nullstr = '', allow_quoted_nulls = false, strict_mode = true, null_padding = false, max_line_size = ${maxLine}, buffer_size = ${Math.max(maxLine + 1, 16_777_216)}, columns = {${columns}})`;
}

/**
 * Inserts a plain file's records when every one holds its values in their simple form (and none is missing
 * from a NOT NULL column); the number inserted. Any other value fails the insert, which `attempt` undoes:
 * undefined then sends the file to the record-by-record reader.
 */
export async function insertPlain(
  ctx: Ctx,
  body: string,
  spec: PlainLoadSpec,
  scan: PlainScan,
): Promise<number | undefined> {
  const conditions = spec.columns.map((col, i) => {
    const c = quoteIdent(`c${i}`);
    const form = simpleForm(c, col.sf) as string;
    return col.notNull ? `(${c} IS NOT NULL AND (${form}))` : `(${c} IS NULL OR (${form}))`;
  });
  const values = spec.columns.map((col, i) => plainValue(quoteIdent(`c${i}`), col.sf));
  const inserted = await ctx.attempt(
    `INSERT INTO ${quoteQualified(spec.table)} (${spec.columns.map((c) => quoteIdent(c.name)).join(', ')}) SELECT ${values.join(', ')} FROM ${reader(body, spec, scan)} WHERE coalesce(${conditions.join(' AND ')}, false) OR error('a value outside its simple form')`,
  );
  if (!inserted) return undefined;
  bulkLoaded.files++;
  const loaded = Number(inserted.getRows()[0]?.[0] ?? 0);
  if (loaded !== scan.records) {
    throw new SnowflakeSqlError(
      '000603',
      'XX000',
      `SQL execution internal error: the stand-in parsed ${scan.records} rows and inserted ${loaded}.`,
    );
  }
  return loaded;
}

export async function discard(file: string): Promise<void> {
  await rm(file, { force: true });
}
