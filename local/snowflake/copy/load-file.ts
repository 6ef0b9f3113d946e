// COPY's loading of one staged CSV file: decompression, records read as Snowflake reads them, each field turned
// into its column's type by the documented input forms, bad rows reported by line and column, and ON_ERROR.

import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import type { Ctx } from '../context';
import { SnowflakeSqlError } from '../engine-types';
import { unsupported } from '../errors';
import { castFromText, convertText, type InputSettings } from '../input-forms';
import { quoteIdent, quoteQualified, sqlString } from '../sql-tokens';
import {
  type CsvField,
  CsvReader,
  type CsvRecord,
  replaceInvalidBytes,
  showInvalidBytes,
  unescapeUnenclosed,
} from './csv-reader';
import type { CsvFormat } from './file-format';
import { discard, insertPlain, plainBody, plainDialect } from './plain-load';
import type { FileResult } from './results';
import type { StagedObject } from './stage-objects';
import type { LoadColumn, OnError } from './statement';

export interface LoadSpec {
  readonly object: StagedObject;
  /** Where the object was downloaded to. */
  readonly local: string;
  /** Where the converted rows are written for DuckDB to insert. */
  readonly converted: string;
  /** Where a plain file's records are written for DuckDB's reader (plain-load.ts). */
  readonly plain: string;
  readonly format: CsvFormat;
  readonly settings: InputSettings;
  readonly onError: OnError;
  readonly match: string;
  readonly table: readonly string[];
  readonly columns: readonly LoadColumn[];
}

/** A row's first error, as COPY reports it. */
interface RowError {
  readonly error: SnowflakeSqlError;
  readonly line: number;
  readonly character: number;
  /** 0-based target column, when the error belongs to one. */
  readonly column: number | undefined;
}

/** zlib's zstd (Node 22.15 and later), which @types/node of Node 20 does not declare. */
const zstdZlib = zlib as unknown as {
  createZstdDecompress?: (options: { chunkSize: number }) => Transform;
};

/**
 * A zstd decompressor from this Node's zlib. On a Node without it the file is refused, saying why, rather
 * than read as something else; DuckDB reads .zst natively, but through its own CSV reader, and the
 * stand-in must read each record as Snowflake does.
 */
function zstdDecompressor(chunkSize: number): Transform {
  if (typeof zstdZlib.createZstdDecompress !== 'function') {
    throw unsupported(
      `zstd-compressed files on Node.js ${process.version}: the stand-in decompresses zstd with Node's zlib, which has it from Node 22.15`,
    );
  }
  return zstdZlib.createZstdDecompress({ chunkSize });
}

/** The codecs whose files open with a mark of their own, and that mark. */
const MAGIC: readonly { readonly kind: string; readonly test: (b: Buffer) => boolean }[] = [
  { kind: 'GZIP', test: (b) => b[0] === 0x1f && b[1] === 0x8b },
  { kind: 'ZSTD', test: (b) => b.length === 4 && b.readUInt32LE(0) === 0xfd2fb528 },
  { kind: 'BZ2', test: (b) => b.subarray(0, 3).toString('latin1') === 'BZh' },
  {
    kind: 'DEFLATE',
    test: (b) => b[0] === 0x78 && b.length > 1 && ((b[0] << 8) | (b[1] as number)) % 31 === 0,
  },
];

/** Which codec a file's first bytes are the mark of, if any. */
function sniff(first: Buffer): string | undefined {
  return MAGIC.find((m) => m.test(first))?.kind;
}

/**
 * A file that does not decompress as its COMPRESSION says (GZIP named, zstd bytes given, or a damaged
 * stream). "The COMPRESSION file format option describes how your data files are already compressed in the
 * stage" (https://docs.snowflake.com/en/user-guide/data-load-prepare); what Snowflake answers when they are
 * not is not documented, so the stand-in refuses, naming the file, the COMPRESSION and the cause.
 */
export function compressionMismatch(
  url: string,
  compression: string,
  kind: string,
  cause: string,
): SnowflakeSqlError {
  const named = compression === kind ? `COMPRESSION = ${kind}` : `${kind} (COMPRESSION = ${compression})`;
  return unsupported(
    `the file '${url}' does not decompress as ${named} says: ${cause}; what Snowflake answers to a file compressed otherwise than its COMPRESSION describes is not documented`,
  );
}

/** Errors raised by a decompressor, told apart from the reader's own so that they are refused by name. */
const decompressionErrors = new WeakSet<object>();

/** What a decompressor's failure is reported as; any other error passes unchanged. */
function decompressionFailure(err: unknown, spec: LoadSpec, kind: string): unknown {
  if (!(err instanceof Error) || !decompressionErrors.has(err)) return err;
  return compressionMismatch(
    spec.object.url,
    spec.format.compression,
    kind,
    `the decompressor failed (${err.message})`,
  );
}

/** The file's bytes decompressed as COMPRESSION says; AUTO recognises gzip, zstd and zlib's deflate. */
async function decompressed(spec: LoadSpec): Promise<{ stream: Readable; kind: string }> {
  const file = spec.local;
  const compression = spec.format.compression;
  const handle = await open(file, 'r');
  const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0).finally(() => handle.close());
  const found = sniff(buffer.subarray(0, bytesRead));
  let kind = compression;
  if (kind === 'AUTO') {
    if (found === 'BZ2') throw unsupported('bz2 compressed files');
    kind = found ?? 'NONE';
  } else if (MAGIC.some((m) => m.kind === kind) && found !== kind) {
    // A codec whose files open with a mark: a file without it is not that codec's, whatever follows.
    throw compressionMismatch(
      spec.object.url,
      compression,
      kind,
      found
        ? `its first bytes are those of ${found}`
        : `its first bytes (${buffer.subarray(0, bytesRead).toString('hex') || 'none: the file is empty'}) are not a ${kind} header`,
    );
  }
  // Megabyte chunks: zlib's default 16 KiB makes decompression take several times as long.
  const chunkSize = 1 << 20;
  const decoder =
    kind === 'ZSTD'
      ? zstdDecompressor(chunkSize)
      : kind === 'GZIP'
        ? zlib.createGunzip({ chunkSize })
        : kind === 'DEFLATE'
          ? zlib.createInflate({ chunkSize })
          : kind === 'RAW_DEFLATE'
            ? zlib.createInflateRaw({ chunkSize })
            : kind === 'BROTLI'
              ? zlib.createBrotliDecompress({ chunkSize })
              : undefined;
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  if (!decoder) return { stream: source, kind };
  decoder.on('error', (err) => decompressionErrors.add(err));
  source.on('error', (err) => decoder.destroy(err));
  return { stream: source.pipe(decoder), kind };
}

/** Writes the converted rows as CSV in DuckDB's own dialect: every value quoted, NULL an empty unquoted field. */
class ConvertedRows {
  private readonly out: WriteStream;
  count = 0;
  /** The longest line written, in bytes at most. */
  longest = 0;

  constructor(file: string) {
    this.out = createWriteStream(file);
  }

  async write(values: readonly (string | null)[]): Promise<void> {
    const line = `${values.map((v) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`)).join(',')}\n`;
    this.count++;
    // A UTF-16 unit is at most three bytes of UTF-8.
    if (line.length * 3 > this.longest) this.longest = line.length * 3;
    if (!this.out.write(line)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }
}

function columnLabel(spec: LoadSpec, index: number): string {
  return `"${spec.table[2]}"["${spec.columns[index]?.name}":${index + 1}]`;
}

/** A field's text before its type: invalid bytes, NULL_IF, EMPTY_FIELD_AS_NULL, the unenclosed escapes. */
function fieldText(field: CsvField, format: CsvFormat): { value: string | null } | SnowflakeSqlError {
  let { value, raw } = field;
  if (field.invalidBytes) {
    if (!format.replaceInvalidCharacters) {
      // "If set to FALSE, the load operation produces an error when invalid UTF-8 character encoding is detected."
      return new SnowflakeSqlError(
        '100096',
        '22000',
        `Invalid UTF8 detected in string '${showInvalidBytes(raw)}'`,
      );
    }
    value = replaceInvalidBytes(value);
    raw = replaceInvalidBytes(raw);
  }
  if (field.enclosed) {
    // Enclosing is what tells an empty string from a NULL ("Use quotes if an empty field should be
    // interpreted as an empty string"); whether NULL_IF also applies inside quotes is not documented.
    if (format.nullIf.includes(value)) {
      throw unsupported(
        `NULL_IF matching the enclosed field "${value}": whether it applies inside quotes is not documented`,
      );
    }
    return { value };
  }
  // "EMPTY_FIELD_AS_NULL ... insert SQL NULL for empty fields ... represented by two successive delimiters".
  if (raw === '' && format.emptyAsNull) return { value: null };
  if (format.nullIf.includes(raw)) return { value: null };
  const unescaped = unescapeUnenclosed(raw, format.dialect);
  if (unescaped !== raw && format.nullIf.includes(unescaped)) {
    throw unsupported(
      `NULL_IF '${unescaped}' matching the escaped field ${raw}: whether it is matched before or after escapes is not documented`,
    );
  }
  return { value: unescaped };
}

/** Loads a file by DuckDB's reader when it is plain (plain-load.ts); undefined when it is not. */
async function loadPlain(ctx: Ctx, spec: LoadSpec): Promise<FileResult | undefined> {
  if (ctx.options.bulkLoad === false || !plainDialect(spec)) return undefined;
  const { stream, kind } = await decompressed(spec);
  const scan = await plainBody(stream, spec, spec.plain, () => ctx.throwIfCancelled()).catch((err) => {
    throw decompressionFailure(err, spec, kind);
  });
  if (scan && scan.records === 0) return fileResult(spec, { parsed: 0, errors: 0, first: undefined }, 0);
  if (scan) {
    const loaded = await insertPlain(ctx, spec.plain, spec, scan);
    if (loaded !== undefined) {
      return fileResult(spec, { parsed: scan.records, errors: 0, first: undefined }, loaded);
    }
  }
  await discard(spec.plain);
  return undefined;
}

export async function loadFile(ctx: Ctx, spec: LoadSpec): Promise<FileResult> {
  const plain = await loadPlain(ctx, spec);
  if (plain) return plain;
  const { format, onError } = spec;
  const { stream, kind } = await decompressed(spec);
  const reader = new CsvReader(stream, format.dialect);
  const rows = new ConvertedRows(spec.converted);
  let parsed = 0;
  let errors = 0;
  let first: RowError | undefined;
  try {
    // Which file field feeds each target column.
    let sources: (number | undefined)[] = spec.columns.map((_c, i) => i);
    let expected: number | undefined;
    if (format.parseHeader) {
      const header = await reader.next();
      const names = (header?.fields ?? []).map((f) => f.value);
      expected = names.length;
      sources = spec.columns.map((col) => {
        const found = names.findIndex((n) =>
          spec.match === 'CASE_SENSITIVE' ? n === col.name : n.toUpperCase() === col.name.toUpperCase(),
        );
        return found < 0 ? undefined : found;
      });
    } else if (format.skipHeader > 0) {
      await reader.skipLines(format.skipHeader);
    }
    const matchByName = spec.match !== 'NONE';
    for (let record: CsvRecord | undefined = await reader.next(); record; record = await reader.next()) {
      ctx.throwIfCancelled();
      parsed++;
      const rowError = (error: SnowflakeSqlError, character: number, column?: number): RowError => ({
        error,
        line: record?.line ?? 0,
        character,
        column,
      });
      let bad: RowError | undefined;
      const count = record.fields.length;
      const end = (record.fields.at(-1)?.character ?? 1) + (record.fields.at(-1)?.raw.length ?? 0);
      if (record.error) {
        bad = rowError(withColumn(record.error, spec, Math.min(count, spec.columns.length)), end);
      } else if (
        !matchByName &&
        expected === undefined &&
        count !== spec.columns.length &&
        format.columnCountMismatchIsError
      ) {
        bad = rowError(
          new SnowflakeSqlError(
            '100080',
            '22000',
            `Number of columns in file (${count}) does not match that of the corresponding table (${spec.columns.length}), use file format option error_on_column_count_mismatch=false to ignore this error`,
          ),
          1,
        );
      } else if (expected !== undefined && count !== expected) {
        // "a file containing records of varying length return an error regardless of the value specified".
        bad =
          count > expected
            ? rowError(
                new SnowflakeSqlError(
                  '100016',
                  '22000',
                  `Field delimiter '${format.dialect.fieldDelimiter ?? ''}' found while expecting record delimiter '\\n'`,
                ),
                record.fields[expected]?.character ?? end,
                Math.min(expected, spec.columns.length - 1),
              )
            : rowError(
                new SnowflakeSqlError(
                  '100068',
                  '22000',
                  `End of record reached while expected to parse column '${columnLabel(spec, Math.min(count, spec.columns.length - 1))}'`,
                ),
                end,
                Math.min(count, spec.columns.length - 1),
              );
      }
      expected ??= count;
      const values: (string | null)[] = [];
      for (let c = 0; !bad && c < spec.columns.length; c++) {
        const col = spec.columns[c] as LoadColumn;
        const source = sources[c];
        const field = source === undefined ? undefined : record.fields[source];
        let value: string | null = null;
        if (field) {
          const t = fieldText(field, format);
          if (t instanceof SnowflakeSqlError) {
            bad = rowError(t, field.character, c);
            break;
          }
          if (t.value !== null) {
            // EMPTY_FIELD_AS_NULL = FALSE: "An empty string is inserted into columns of type STRING. For other
            // column types, the COPY INTO <table> command produces an error."
            const converted = convertText(t.value, col.sf, spec.settings);
            if (!converted.ok) {
              bad = rowError(converted.error, field.character, c);
              break;
            }
            value = converted.text;
          }
        }
        if (value === null && col.notNull) {
          bad = rowError(
            new SnowflakeSqlError(
              '100088',
              '22000',
              'NULL result in a non-nullable column. Use quotes if an empty field should be interpreted as an empty string instead of a null',
            ),
            field?.character ?? 1,
            c,
          );
          break;
        }
        values.push(value);
      }
      if (bad) {
        errors++;
        first ??= bad;
        if (onError.kind === 'ABORT_STATEMENT') throw abortError(bad, spec, parsed);
        continue;
      }
      await rows.write(values);
    }
  } catch (err) {
    throw decompressionFailure(err, spec, kind);
  } finally {
    stream.destroy();
    await rows.close();
  }
  return finish(ctx, spec, { parsed, errors, first, good: rows.count, longest: rows.longest });
}

function withColumn(error: SnowflakeSqlError, spec: LoadSpec, column: number): SnowflakeSqlError {
  if (error.code !== '100068' || error.message.includes("'")) return error;
  return new SnowflakeSqlError(
    error.code,
    error.sqlState,
    `${error.message} '${columnLabel(spec, Math.max(0, column - 1))}'`,
  );
}

function abortError(bad: RowError, spec: LoadSpec, row: number): SnowflakeSqlError {
  const column = bad.column === undefined ? '' : `, column ${columnLabel(spec, bad.column)}`;
  return new SnowflakeSqlError(
    bad.error.code,
    bad.error.sqlState,
    `${bad.error.message}\n  File '${spec.object.key}', line ${bad.line}, character ${bad.character}\n  Row ${row}${column}`,
  );
}

async function finish(
  ctx: Ctx,
  spec: LoadSpec,
  counts: { parsed: number; errors: number; first: RowError | undefined; good: number; longest: number },
): Promise<FileResult> {
  const { onError } = spec;
  const { parsed, errors, good } = counts;
  const skipFile =
    onError.kind === 'SKIP_FILE' &&
    (onError.percent ? parsed > 0 && (errors / parsed) * 100 > onError.limit : errors >= onError.limit);
  let loaded = 0;
  if (!skipFile && good > 0) {
    const names = spec.columns.map((c, i) => ({ name: c.name, source: quoteIdent(`c${i}`), sf: c.sf }));
    // DuckDB's reader holds 16 times max_line_size: sized to the longest row written, not to the largest
    // value there could be (which asked for gigabytes per load).
    const maxLine = Math.max(2_097_152, counts.longest + 1);
    const reader = `read_csv(${sqlString(spec.converted)}, auto_detect = false, header = false, delim = ',', quote = '"', escape = '"', new_line = '\\n', nullstr = '', allow_quoted_nulls = false, max_line_size = ${maxLine}, buffer_size = ${Math.max(maxLine + 1, 16_777_216)}, columns = {${names
      .map((n) => `${sqlString(`c${names.indexOf(n)}`)}: 'VARCHAR'`)
      .join(', ')}})`;
    const insert = `INSERT INTO ${quoteQualified(spec.table)} (${names.map((n) => quoteIdent(n.name)).join(', ')}) SELECT ${names
      .map((n) => castFromText(n.source, n.sf))
      .join(', ')} FROM ${reader}`;
    const inserted = await ctx.write(insert);
    loaded = Number(inserted.getRows()[0]?.[0] ?? 0);
  }
  return fileResult(spec, counts, loaded);
}

/** COPY's row for one file, from what was parsed and loaded. */
function fileResult(
  spec: LoadSpec,
  counts: { parsed: number; errors: number; first: RowError | undefined },
  loaded: number,
): FileResult {
  const { onError } = spec;
  const { parsed, errors, first } = counts;
  const errorLimit = onError.kind === 'CONTINUE' ? parsed : onError.kind === 'SKIP_FILE' ? onError.limit : 1;
  return {
    file: spec.object.url,
    status: errors === 0 ? 'LOADED' : loaded === 0 ? 'LOAD_FAILED' : 'PARTIALLY_LOADED',
    parsed,
    loaded,
    errorLimit,
    errors,
    firstError: first?.error.message ?? null,
    firstErrorLine: first?.line ?? null,
    firstErrorCharacter: first?.character ?? null,
    firstErrorColumn: first?.column === undefined ? null : columnLabel(spec, first.column),
  };
}
