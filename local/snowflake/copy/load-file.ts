// COPY's loading of one staged CSV file: compression, fields read by DuckDB's read_csv and converted to
// each column's type, bad rows reported by line and column, and ON_ERROR (abort, skip the file, continue).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Ctx } from '../context';
import { SnowflakeSqlError } from '../engine-types';
import { conversionError, toSnowflakeError } from '../errors';
import type { SfType } from '../sf-types';
import { quoteIdent, quoteQualified, sqlString } from '../sql-tokens';
import type { CsvFormat } from './file-format';
import { type FileResult, skipped } from './results';
import type { StagedObject } from './stage-objects';
import type { LoadColumn, OnError } from './statement';

export interface LoadSpec {
  readonly object: StagedObject;
  /** Where the object was downloaded to. */
  readonly local: string;
  readonly format: CsvFormat;
  readonly onError: OnError;
  readonly match: string;
  readonly table: readonly string[];
  readonly columns: readonly LoadColumn[];
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * The first record after `skip` lines, split into fields, to learn the column count (and header names).
 * Read by hand rather than with DuckDB (`read_csv(..., header = false) LIMIT 1` or `sniff_csv`): DuckDB
 * sniffs the column count from a sample of rows, so a first record wider than the rest fails to sniff
 * instead of giving Snowflake's 100080 column-count error, and it skips blank lines, which this reader
 * takes as a record of one empty field (Snowflake, without SKIP_BLANK_LINES, refuses them too).
 */
async function firstRecord(file: string, gzip: boolean, format: CsvFormat): Promise<string[] | undefined> {
  const source = createReadStream(file);
  const stream: Readable = gzip ? source.pipe(createGunzip()) : source;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      const record = recordAfter(text, format);
      if (record !== undefined) return record;
      if (text.length > 16 * 1024 * 1024) break;
    }
  } finally {
    stream.destroy();
    source.destroy();
  }
  // A last record without a line break; a file that is only its header holds no record at all.
  return text.length > 0 && !text.endsWith('\n') ? recordAfter(`${text}\n`, format) : undefined;
}

function recordAfter(text: string, format: CsvFormat): string[] | undefined {
  let pos = 0;
  for (let skipped = 0; skipped < format.skipHeader; skipped++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return undefined;
    pos = nl + 1;
  }
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = pos; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === format.enclosure) {
        if (text[i + 1] === format.enclosure) {
          field += c;
          i++;
        } else quoted = false;
      } else field += c;
    } else if (format.enclosure && c === format.enclosure && field === '') quoted = true;
    else if (c === format.delimiter) {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      fields.push(field.replace(/\r$/, ''));
      return fields;
    } else field += c;
  }
  return undefined;
}

/** SQL converting a raw text field to the column's type, NULL when it does not convert. */
function conversion(raw: string, sf: SfType): string {
  switch (sf.wire) {
    case 'fixed':
    case 'real':
    case 'date':
    case 'time':
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz':
      return `TRY_CAST(trim(${raw}) AS ${sf.duck})`;
    case 'boolean':
      return `CASE WHEN lower(trim(${raw})) IN ('true','t','yes','y','on','1') THEN TRUE WHEN lower(trim(${raw})) IN ('false','f','no','n','off','0') THEN FALSE END`;
    case 'variant':
    case 'object':
    case 'array':
      return `CASE WHEN json_valid(${raw}) THEN json(${raw}) END`;
    case 'binary': {
      const hex = `regexp_replace(${raw}, '^\\\\x', '')`;
      return `CASE WHEN regexp_full_match(${hex}, '([0-9A-Fa-f]{2})*') THEN unhex(${hex}) END`;
    }
    default:
      return raw;
  }
}

export async function loadFile(ctx: Ctx, spec: LoadSpec): Promise<FileResult> {
  const { format, onError, object } = spec;
  const gzip = format.compression === 'GZIP' || (format.compression === 'AUTO' && (await isGzip(spec.local)));
  const headerLines = format.parseHeader ? 1 : format.skipHeader;
  const errorLimit = (parsed: number) =>
    onError.kind === 'CONTINUE' ? parsed : onError.kind === 'SKIP_FILE' ? onError.limit : 1;
  const failed = (message: string, line: number | null, column: string | null, parsed = 0): FileResult => ({
    file: object.url,
    status: 'LOAD_FAILED',
    parsed,
    loaded: 0,
    errorLimit: errorLimit(parsed),
    errors: 1,
    firstError: message,
    firstErrorLine: line,
    firstErrorCharacter: line === null ? null : 1,
    firstErrorColumn: column,
  });

  const first = await firstRecord(spec.local, gzip, {
    ...format,
    skipHeader: format.parseHeader ? 0 : format.skipHeader,
  });
  if (!first) {
    return { ...skipped(object.url), status: 'LOADED', errorLimit: errorLimit(0) };
  }
  const fileColumns = first.map((name, i) => ({ id: `c${i}`, header: name }));
  // Which file column feeds each table column.
  const sources = spec.columns.map((col, i) => {
    if (spec.match === 'NONE') return fileColumns[i]?.id;
    const found = fileColumns.find((f) =>
      spec.match === 'CASE_SENSITIVE'
        ? f.header === col.name
        : f.header.toUpperCase() === col.name.toUpperCase(),
    );
    return found?.id;
  });
  if (
    spec.match === 'NONE' &&
    format.columnCountMismatchIsError &&
    fileColumns.length !== spec.columns.length
  ) {
    const message = columnCountMessage(fileColumns.length, spec.columns.length);
    if (onError.kind === 'ABORT_STATEMENT') throw new SnowflakeSqlError('100080', '22000', message);
    return failed(message, headerLines + 1, null);
  }

  const nulls = [...format.nullIf, ...(format.emptyAsNull ? [''] : [])];
  const reader = `read_csv(${sqlString(spec.local)}, auto_detect = false, columns = {${fileColumns
    .map((c) => `${sqlString(c.id)}: 'VARCHAR'`)
    .join(
      ', ',
    )}}, delim = ${sqlString(format.delimiter)}, quote = ${sqlString(format.enclosure)}, escape = ${sqlString(
    format.enclosure,
  )}, header = ${format.parseHeader}, skip = ${format.parseHeader ? 0 : format.skipHeader}, compression = '${
    gzip ? 'gzip' : 'none'
  }', allow_quoted_nulls = false, nullstr = [${nulls.map(sqlString).join(', ')}])`;
  const raw = `(SELECT row_number() OVER () AS __line, * FROM ${reader})`;
  const fields = spec.columns.map((col, i) => {
    const src = sources[i];
    const value = src ? quoteIdent(src) : 'NULL';
    const converted = src ? conversion(value, col.sf) : 'NULL';
    const bad = [src ? `(${value} IS NOT NULL AND (${converted}) IS NULL)` : 'FALSE'];
    if (col.notNull) bad.push(`(${converted}) IS NULL`);
    return { col, value, converted, bad: bad.join(' OR ') };
  });
  const anyBad = fields.map((f) => `(${f.bad})`).join(' OR ') || 'FALSE';

  let parsed: number;
  let errors: number;
  let firstBad: { line: number; column: number; value: string | null } | undefined;
  try {
    const stats = await ctx.read(`SELECT count(*), count(*) FILTER (WHERE ${anyBad}) FROM ${raw}`);
    const row = stats.getRows()[0] ?? [0, 0];
    parsed = Number(row[0]);
    errors = Number(row[1]);
    if (errors > 0) {
      const probe = await ctx.read(
        `SELECT __line, ${fields.map((f) => `(${f.bad})`).join(', ')}, ${fields.map((f) => f.value).join(', ')} FROM ${raw} WHERE ${anyBad} ORDER BY __line LIMIT 1`,
      );
      const r = probe.getRows()[0] ?? [];
      const column = fields.findIndex((_f, i) => r[1 + i] === true);
      const value = r[1 + fields.length + column];
      firstBad = {
        line: Number(r[0]),
        column,
        value: value === null || value === undefined ? null : String(value),
      };
    }
  } catch (err) {
    const mapped = csvError(err);
    if (onError.kind === 'ABORT_STATEMENT') throw mapped;
    return failed(mapped.message, lineOf(err), null);
  }

  let firstError: string | null = null;
  let firstErrorColumn: string | null = null;
  if (firstBad) {
    const f = fields[firstBad.column] as (typeof fields)[number];
    const error =
      firstBad.value === null
        ? new SnowflakeSqlError('100072', '22000', 'NULL result in a non-nullable column')
        : conversionError(firstBad.value, f.col.sf.duck);
    firstError = error.message;
    firstErrorColumn = `"${spec.table[2]}"["${f.col.name}":${firstBad.column + 1}]`;
    if (onError.kind === 'ABORT_STATEMENT') {
      throw new SnowflakeSqlError(
        error.code,
        error.sqlState,
        `${error.message}\n  File '${object.key}', line ${firstBad.line + headerLines}, character 1\n  Row ${firstBad.line}, column ${firstErrorColumn}`,
      );
    }
  }
  const errorLine = firstBad ? firstBad.line + headerLines : null;
  if (onError.kind === 'SKIP_FILE' && errors >= onError.limit) {
    return { ...failed(firstError ?? '', errorLine, firstErrorColumn, parsed), errors };
  }
  const insert = `INSERT INTO ${quoteQualified(spec.table)} (${fields.map((f) => quoteIdent(f.col.name)).join(', ')}) SELECT ${fields
    .map((f) => f.converted)
    .join(', ')} FROM ${raw} WHERE NOT (${anyBad}) ORDER BY __line`;
  const inserted = await ctx.write(insert);
  const loaded = Number(inserted.getRows()[0]?.[0] ?? 0);
  return {
    file: object.url,
    status: errors === 0 ? 'LOADED' : loaded === 0 ? 'LOAD_FAILED' : 'PARTIALLY_LOADED',
    parsed,
    loaded,
    errorLimit: errorLimit(parsed),
    errors,
    firstError,
    firstErrorLine: errorLine,
    firstErrorCharacter: errorLine === null ? null : 1,
    firstErrorColumn,
  };
}

function columnCountMessage(inFile: number | string, inTable: number | string): string {
  return `Number of columns in file (${inFile}) does not match that of the corresponding table (${inTable}), use file format option error_on_column_count_mismatch=false to ignore this error`;
}

function lineOf(err: unknown): number | null {
  const m = /CSV Error on Line: (\d+)/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : null;
}

/** DuckDB's CSV reader errors as Snowflake names them (100080 column count, 100016 delimiter or quote). */
function csvError(err: unknown): SnowflakeSqlError {
  const message = err instanceof Error ? err.message : String(err);
  const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (columns) {
    return new SnowflakeSqlError(
      '100080',
      '22000',
      columnCountMessage(columns[2] as string, columns[1] as string),
    );
  }
  if (/CSV Error|Invalid Input Error/.test(message)) {
    return new SnowflakeSqlError(
      '100016',
      '22000',
      `Field delimiter or quote mismatch while parsing the file: ${message.split('\n')[0]}`,
    );
  }
  return toSnowflakeError(err, {
    id: '',
    user: '',
    role: '',
    database: '',
    schema: '',
    warehouse: '',
    transaction: null,
  });
}
