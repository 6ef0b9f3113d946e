// Reading a staged file the way Snowflake's CSV format type options say (copy-into-table, "TYPE = CSV"): the
// character set, record and field delimiters, optional enclosure, the two escape characters, blank lines.
import type { Readable } from 'node:stream';
import { SnowflakeSqlError } from '../engine-types';
import { unsupported } from '../errors';

export interface CsvDialect {
  /** FIELD_DELIMITER; null for NONE (a record is one field). */
  readonly fieldDelimiter: string | null;
  /** RECORD_DELIMITER; null for the default new line, where `\r\n` counts as one. */
  readonly recordDelimiter: string | null;
  /** FIELD_OPTIONALLY_ENCLOSED_BY; empty for NONE. */
  readonly enclosure: string;
  /** ESCAPE, for enclosed fields; empty for NONE. */
  readonly escape: string;
  /** ESCAPE_UNENCLOSED_FIELD; empty for NONE. */
  readonly escapeUnenclosed: string;
  readonly multiLine: boolean;
  readonly trimSpace: boolean;
  readonly skipBlankLines: boolean;
  /** ENCODING, as a TextDecoder label ('utf-8' is read by the stand-in's own decoder). */
  readonly encoding: string;
  readonly skipByteOrderMark: boolean;
}

export interface CsvField {
  /** An enclosed field's value; an unenclosed field's text as written, its escapes not yet resolved. */
  readonly value: string;
  /** The field as written, for NULL_IF (which the default `\N` shows is matched before escapes). */
  readonly raw: string;
  readonly enclosed: boolean;
  /** 1-based position of the field's first character in its line. */
  readonly character: number;
  /** Bytes that are not UTF-8 (as `0xNN`), when the file's encoding is UTF-8. */
  readonly invalidBytes: boolean;
}

export interface CsvRecord {
  readonly fields: CsvField[];
  /** 1-based line the record starts on. */
  readonly line: number;
  /** A record Snowflake cannot read (the field delimiter after a closing quote missing, and the like). */
  readonly error?: SnowflakeSqlError;
}

/** Bytes that are not UTF-8 are kept as lone low surrogates (U+DC80-U+DCFF), which valid text never holds. */
const INVALID_BYTE = /[\uDC80-\uDCFF]/;

/** The bytes of a UTF-8 stream as text, invalid bytes marked; an incomplete sequence waits for the next chunk. */
class Utf8Decoder {
  private carry: Buffer = Buffer.alloc(0);

  decode(chunk: Buffer, end: boolean): string {
    const bytes = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let out = '';
    let run = 0;
    let i = 0;
    const continuation = (k: number) => {
      const c = bytes[k] as number;
      if ((c & 0xc0) !== 0x80) return false;
      if (k !== i + 1) return true;
      const b = bytes[i] as number;
      // The second byte's narrower ranges rule out overlong forms, surrogates and code points past U+10FFFF.
      return !(
        (b === 0xe0 && c < 0xa0) ||
        (b === 0xed && c > 0x9f) ||
        (b === 0xf0 && c < 0x90) ||
        (b === 0xf4 && c > 0x8f)
      );
    };
    while (i < bytes.length) {
      const b = bytes[i] as number;
      if (b < 0x80) {
        i++;
        continue;
      }
      const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
      const available = Math.min(need, bytes.length - 1 - i);
      let valid = need > 0;
      for (let k = i + 1; valid && k <= i + available; k++) valid = continuation(k);
      if (valid && available < need && !end) break;
      if (valid && available === need) {
        i += need + 1;
        continue;
      }
      out += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b);
      i++;
      run = i;
    }
    out += bytes.toString('utf8', run, i);
    this.carry = Buffer.from(bytes.subarray(i));
    return out;
  }
}

/** Text chunks of a byte stream in the file's ENCODING. */
async function* decodeStream(stream: Readable, encoding: string): AsyncGenerator<string> {
  if (encoding === 'utf-8') {
    const decoder = new Utf8Decoder();
    for await (const chunk of stream) yield decoder.decode(chunk as Buffer, false);
    yield decoder.decode(Buffer.alloc(0), true);
    return;
  }
  const decoder = new TextDecoder(encoding);
  for await (const chunk of stream) yield decoder.decode(chunk as Buffer, { stream: true });
  yield decoder.decode();
}

const NEED_MORE = Symbol('need more');

/** Records of a staged file, one at a time; a record is read again whole when a chunk ends inside it. */
export class CsvReader {
  private buf = '';
  private pos = 0;
  private line = 1;
  private eof = false;
  private started = false;
  private readonly chunks: AsyncGenerator<string>;

  constructor(
    stream: Readable,
    private readonly d: CsvDialect,
  ) {
    this.chunks = decodeStream(stream, d.encoding);
  }

  private async more(): Promise<boolean> {
    if (this.eof) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.eof = true;
      return false;
    }
    if (this.pos > 1 << 20) {
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
    }
    this.buf += next.value;
    if (!this.started && this.buf.length > 0) {
      this.started = true;
      if (this.d.skipByteOrderMark && this.buf.startsWith('\uFEFF')) this.pos = 1;
    }
    return true;
  }

  /**
   * Skips lines for SKIP_HEADER, which "simply skips the specified number of CRLF ... delimited lines"
   * whatever the delimiters and quotes. False when the file ends first.
   */
  async skipLines(count: number): Promise<boolean> {
    for (let skipped = 0; skipped < count; ) {
      const nl = this.buf.indexOf('\n', this.pos);
      if (nl >= 0) {
        this.pos = nl + 1;
        this.line++;
        skipped++;
      } else if (!(await this.more())) {
        return false;
      }
    }
    return true;
  }

  async next(): Promise<CsvRecord | undefined> {
    for (;;) {
      const r = this.parse();
      if (r !== NEED_MORE) return r;
      if (!(await this.more())) {
        const last = this.parse();
        return last === NEED_MORE ? undefined : last;
      }
    }
  }

  /** The record delimiter at `i`: its length, or 0. The default new line is `\n`, or `\r\n`. */
  private recordEnd(i: number): number {
    const { buf, d } = this;
    if (d.recordDelimiter === null) {
      if (buf[i] === '\n') return 1;
      if (buf[i] === '\r' && buf[i + 1] === '\n') return 2;
      return 0;
    }
    return buf.startsWith(d.recordDelimiter, i) ? d.recordDelimiter.length : 0;
  }

  private fieldEnd(i: number): number {
    const f = this.d.fieldDelimiter;
    return f !== null && this.buf.startsWith(f, i) ? f.length : 0;
  }

  /** Whether the text from `i` could still become a delimiter once more of the file arrives. */
  private partial(i: number): boolean {
    if (this.eof) return false;
    const rest = this.buf.slice(i);
    const delimiters = [this.d.fieldDelimiter ?? '', this.d.recordDelimiter ?? '\r\n'];
    return delimiters.some((x) => x.length > rest.length && x.startsWith(rest));
  }

  private parse(): CsvRecord | undefined | typeof NEED_MORE {
    const { buf, d } = this;
    let i = this.pos;
    let line = this.line;
    let lineStart = i;
    if (i >= buf.length) return this.eof ? undefined : NEED_MORE;
    const startLine = line;
    const fields: CsvField[] = [];
    let error: SnowflakeSqlError | undefined;
    const newLine = (at: number) => {
      line++;
      lineStart = at;
    };
    // A blank line: "blank lines produce an end-of-record error (default behavior)".
    const blank = this.recordEnd(i);
    if (blank > 0) {
      this.pos = i + blank;
      this.line = line + 1;
      if (d.skipBlankLines) return this.parse();
      return {
        fields: [],
        line: startLine,
        error: new SnowflakeSqlError(
          '100068',
          '22000',
          'End of record reached while expected to parse column',
        ),
      };
    }
    for (;;) {
      const character = i - lineStart + 1;
      let start = i;
      if (d.trimSpace) while (buf[i] === ' ' || buf[i] === '\t') i++;
      if (d.trimSpace) start = i;
      if (i >= buf.length && !this.eof) return NEED_MORE;
      if (d.enclosure && buf[i] === d.enclosure) {
        // An enclosed field: the doubled enclosure character, or ESCAPE before it, stands for it.
        let value = '';
        i++;
        for (;;) {
          if (i >= buf.length) {
            if (!this.eof) return NEED_MORE;
            error ??= new SnowflakeSqlError(
              '100016',
              '22000',
              `Field delimiter or quote mismatch: the file ended inside a field enclosed by '${d.enclosure}'`,
            );
            break;
          }
          const c = buf[i] as string;
          if (d.escape && c === d.escape && d.escape !== d.enclosure) {
            if (i + 1 >= buf.length && !this.eof) return NEED_MORE;
            if (buf[i + 1] === d.enclosure) {
              value += d.enclosure;
              i += 2;
              continue;
            }
            throw unsupported(
              `the ESCAPE character followed by '${buf[i + 1] ?? 'the end of the file'}' in an enclosed field: the documentation says what it does before the enclosing character only`,
            );
          }
          if (c === d.enclosure) {
            if (i + 1 >= buf.length && !this.eof) return NEED_MORE;
            if (buf[i + 1] === d.enclosure) {
              value += c;
              i += 2;
              continue;
            }
            i++;
            break;
          }
          const rec = this.recordEnd(i);
          if (rec > 0 || (c === '\r' && i + 1 >= buf.length && !this.eof)) {
            if (rec === 0) return NEED_MORE;
            // MULTI_LINE = FALSE: "the record containing the field will be interpreted as an error".
            if (!d.multiLine)
              error ??= new SnowflakeSqlError(
                '100016',
                '22000',
                'Field delimiter or quote mismatch: a record delimiter inside an enclosed field (MULTI_LINE = FALSE)',
              );
            value += buf.slice(i, i + rec);
            i += rec;
            newLine(i);
            continue;
          }
          value += c;
          i++;
        }
        if (d.trimSpace) while (buf[i] === ' ' || buf[i] === '\t') i++;
        if (i >= buf.length && !this.eof) return NEED_MORE;
        const after = i < buf.length ? buf[i] : undefined;
        if (after !== undefined && this.fieldEnd(i) === 0 && this.recordEnd(i) === 0) {
          if (this.partial(i)) return NEED_MORE;
          error ??= new SnowflakeSqlError(
            '100016',
            '22000',
            `Found character '${after}' instead of field delimiter '${d.fieldDelimiter ?? ''}'`,
          );
          // Resynchronise at the next record delimiter.
          while (i < buf.length && this.recordEnd(i) === 0) i++;
          if (i >= buf.length && !this.eof) return NEED_MORE;
        }
        fields.push({ value, raw: value, enclosed: true, character, invalidBytes: INVALID_BYTE.test(value) });
      } else {
        // An unenclosed field: ESCAPE_UNENCLOSED_FIELD makes the next delimiter, or itself, data.
        for (;;) {
          if (i >= buf.length) {
            if (!this.eof) return NEED_MORE;
            break;
          }
          const c = buf[i] as string;
          if (d.escapeUnenclosed && c === d.escapeUnenclosed) {
            // Only the field's end is found here; its escapes are resolved once NULL_IF has seen it as written.
            if (i + 1 >= buf.length) {
              if (!this.eof) return NEED_MORE;
              i++;
              continue;
            }
            if (this.partial(i + 1) || (buf[i + 1] === '\r' && i + 2 >= buf.length && !this.eof))
              return NEED_MORE;
            const r = this.recordEnd(i + 1);
            const skip = this.fieldEnd(i + 1) || r || 1;
            i += 1 + skip;
            if (r > 0) newLine(i);
            continue;
          }
          if (this.fieldEnd(i) > 0 || this.recordEnd(i) > 0) break;
          if (c === '\r' && i + 1 >= buf.length && !this.eof) return NEED_MORE;
          if (this.partial(i)) return NEED_MORE;
          i++;
        }
        let raw = buf.slice(start, i);
        if (d.trimSpace) raw = raw.replace(/[ \t]+$/, '');
        fields.push({ value: raw, raw, enclosed: false, character, invalidBytes: INVALID_BYTE.test(raw) });
      }
      const f = this.fieldEnd(i);
      if (f > 0) {
        i += f;
        continue;
      }
      const r = this.recordEnd(i);
      if (r > 0) {
        i += r;
        newLine(i);
      }
      break;
    }
    this.pos = i;
    this.line = line;
    return error ? { fields, line: startLine, error } : { fields, line: startLine };
  }
}

/**
 * An unenclosed field's escapes resolved. The documentation says what the escape character does before the
 * field delimiter, the record delimiter and itself; before anything else it is refused, not guessed.
 */
export function unescapeUnenclosed(raw: string, d: CsvDialect): string {
  const esc = d.escapeUnenclosed;
  if (!esc || !raw.includes(esc)) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== esc) {
      out += c;
      continue;
    }
    const rest = raw.slice(i + 1);
    const delimiter = [
      d.fieldDelimiter ?? '',
      d.recordDelimiter ?? '\r\n',
      d.recordDelimiter === null ? '\n' : '',
      esc,
    ]
      .filter((x) => x !== '')
      .find((x) => rest.startsWith(x));
    if (delimiter === undefined) {
      throw unsupported(
        rest === ''
          ? 'an escape character (ESCAPE_UNENCLOSED_FIELD) at the end of the file'
          : `the escape character (ESCAPE_UNENCLOSED_FIELD) followed by '${rest[0]}' in an unenclosed field: the documentation says what it does before the field delimiter, the record delimiter and itself only`,
      );
    }
    out += delimiter;
    i += delimiter.length;
  }
  return out;
}

/** An invalid-byte marker shown as Snowflake shows it in its error (`0xA0`). */
export function showInvalidBytes(text: string): string {
  return text.replace(
    /[\uDC80-\uDCFF]/g,
    (c) => `0x${(c.charCodeAt(0) - 0xdc00).toString(16).toUpperCase()}`,
  );
}

/** REPLACE_INVALID_CHARACTERS = TRUE: "a one-to-one character replacement" with U+FFFD. */
export function replaceInvalidBytes(text: string): string {
  return text.replace(/[\uDC80-\uDCFF]/g, '\uFFFD');
}
