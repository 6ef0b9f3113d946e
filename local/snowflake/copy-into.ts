// COPY INTO <table> FROM @stage: lists and reads the stage's objects from the S3 stand-in, skips files
// already loaded into the table (unless FORCE), parses CSV with DuckDB and converts every field as
// Snowflake would, honouring ON_ERROR, and answers with Snowflake's per-file result rows.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  checkTablePrivilege,
  getFileFormat,
  getStage,
  type LoadedFile,
  loadedFiles,
  type Options,
  objectMissing,
  recordLoadSql,
} from './catalog';
import { type Ctx, qualify, requireTable, statusResult } from './context';
import { describeColumns, q, unsupported } from './ddl';
import type { QueryResult } from './engine-types';
import { SnowflakeSqlError, STATEMENT_TYPE } from './engine-types';
import { conversionError, toSnowflakeError } from './errors';
import { columnMeta, parseCanonical, type SfType, sfType } from './sf-types';
import { optBool, optList, optNested, optString, parseOptions } from './sql-options';
import { Cursor, quoteIdent, significant, splitTopLevel, sqlString, type Token } from './sql-tokens';

interface CsvFormat {
  readonly compression: string;
  readonly delimiter: string;
  readonly enclosure: string;
  readonly skipHeader: number;
  readonly parseHeader: boolean;
  readonly nullIf: readonly string[];
  readonly emptyAsNull: boolean;
  readonly columnCountMismatchIsError: boolean;
}

interface StagedObject {
  readonly key: string;
  readonly url: string;
  readonly etag: string;
  readonly size: number;
}

type OnError =
  | { readonly kind: 'ABORT_STATEMENT' | 'CONTINUE' }
  | { readonly kind: 'SKIP_FILE'; readonly limit: number };

interface FileResult {
  readonly file: string;
  readonly status: 'LOADED' | 'LOAD_FAILED' | 'PARTIALLY_LOADED' | 'LOAD_SKIPPED';
  readonly parsed: number;
  readonly loaded: number;
  readonly errorLimit: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly firstErrorLine: number | null;
  readonly firstErrorCharacter: number | null;
  readonly firstErrorColumn: string | null;
}

const RESULT_COLUMNS = [
  'file',
  'status',
  'rows_parsed',
  'rows_loaded',
  'error_limit',
  'errors_seen',
  'first_error',
  'first_error_line',
  'first_error_character',
  'first_error_column_name',
] as const;

export async function copyInto(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const cur = new Cursor(significant(tokens));
  cur.expect('COPY', 'INTO');
  if (cur.peek()?.kind === 'stage') throw unsupported('COPY INTO @stage (unloading)');
  const target = await requireTable(ctx, cur.name());
  if (target.kind === 'table') await checkTablePrivilege(ctx.conn, ctx.session.role, target.name, 'INSERT');
  let columnList: string[] | undefined;
  if (cur.peek()?.text === '(')
    columnList = splitTopLevel(cur.parenGroup()).map((p) => new Cursor(p).ident());
  cur.expect('FROM');
  const from = cur.next();
  if (from.kind !== 'stage') throw unsupported('COPY INTO from anything but @stage (transformations, URLs)');
  const options = parseOptions(cur);
  if (options.VALIDATION_MODE) throw unsupported('COPY with VALIDATION_MODE');

  const { stageName, subPath } = splitStageRef(from.value);
  const stageParts = qualify(ctx.session, stageName, 'COPY');
  const stage = await getStage(ctx.conn, stageParts);
  if (!stage) throw objectMissing(stageParts, 'Stage');
  const format = await resolveFormat(ctx, stage.format, optNested(options, 'FILE_FORMAT'));
  const onError = parseOnError(optString(options, 'ON_ERROR') ?? 'ABORT_STATEMENT');
  const force = optBool(options, 'FORCE', false);
  const match = (optString(options, 'MATCH_BY_COLUMN_NAME') ?? 'NONE').toUpperCase();
  if (match !== 'NONE' && !format.parseHeader) {
    throw new SnowflakeSqlError(
      '002088',
      '22000',
      'SQL compilation error:\nMATCH_BY_COLUMN_NAME with CSV requires the file format option PARSE_HEADER = TRUE.',
    );
  }

  const s3 = new S3Client({
    endpoint: ctx.options.s3.endpoint,
    region: ctx.options.s3.region,
    forcePathStyle: ctx.options.s3.forcePathStyle,
    credentials: { accessKeyId: ctx.options.s3.accessKeyId, secretAccessKey: ctx.options.s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const objects = await selectObjects(
      s3,
      stage.url,
      subPath,
      optList(options, 'FILES'),
      optString(options, 'PATTERN'),
    );
    if (objects.length === 0)
      return statusResult('Copy executed with 0 files processed.', STATEMENT_TYPE.COPY);
    const history = target.kind === 'table' ? await loadedFiles(ctx.conn, target.name) : [];
    const columns = await describeColumns(ctx, target.name);
    const targetColumns = columnList
      ? columnList.map((name) => {
          const col = columns.find((c) => c.name === name);
          if (!col)
            throw new SnowflakeSqlError(
              '000904',
              '42000',
              `SQL compilation error: error line 1 at position 0\ninvalid identifier '${name}'`,
            );
          return col;
        })
      : columns;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-copy-'));
    ctx.keepFile(dir);
    const results: FileResult[] = [];
    for (const object of objects) {
      if (
        !force &&
        history.some((h) => h.file === object.url && h.etag === object.etag && h.size === object.size)
      ) {
        results.push(skipped(object.url));
        continue;
      }
      const local = path.join(dir, `${results.length}${path.extname(object.key)}`);
      await download(s3, stage.url, object.key, local);
      const result = await loadFile(ctx, {
        object,
        local,
        format,
        onError,
        match,
        table: target.name,
        columns: targetColumns.map((c) => ({
          name: c.name,
          sf: parseCanonical(c.canonical) ?? sfType('VARCHAR'),
          notNull: c.notNull,
        })),
      });
      results.push(result);
      if ((result.status === 'LOADED' || result.status === 'PARTIALLY_LOADED') && target.kind === 'table') {
        const loaded: LoadedFile = { file: object.url, etag: object.etag, size: object.size };
        await ctx.write(recordLoadSql(target.name, loaded, result.loaded));
      }
    }
    return resultSet(results);
  } finally {
    s3.destroy();
  }
}

function skipped(file: string): FileResult {
  return {
    file,
    status: 'LOAD_SKIPPED',
    parsed: 0,
    loaded: 0,
    errorLimit: 1,
    errors: 0,
    firstError: null,
    firstErrorLine: null,
    firstErrorCharacter: null,
    firstErrorColumn: null,
  };
}

function resultSet(results: readonly FileResult[]): QueryResult {
  const text = sfType('VARCHAR');
  const number = sfType('NUMBER');
  const columns = RESULT_COLUMNS.map((name, i) =>
    columnMeta(name, [2, 3, 4, 5, 7, 8].includes(i) ? number : text),
  );
  const n = (v: number | null) => (v === null ? null : String(v));
  return {
    columns,
    rows: results.map((r) => [
      r.file,
      r.status,
      n(r.parsed),
      n(r.loaded),
      n(r.errorLimit),
      n(r.errors),
      r.firstError,
      n(r.firstErrorLine),
      n(r.firstErrorCharacter),
      r.firstErrorColumn,
    ]),
    statementTypeId: STATEMENT_TYPE.COPY,
  };
}

/** `@db.schema.stage/some/path` → name parts and path; quoted parts may hold dots and slashes. */
function splitStageRef(ref: string): { stageName: string[]; subPath: string } {
  if (ref.startsWith('~') || ref.startsWith('%')) throw unsupported('user and table stages (@~, @%)');
  const parts: string[] = [];
  let i = 0;
  let current = '';
  while (i < ref.length) {
    const c = ref[i] as string;
    if (c === '"') {
      const end = ref.indexOf('"', i + 1);
      current += ref.slice(i + 1, end < 0 ? ref.length : end);
      i = end < 0 ? ref.length : end + 1;
      parts.push(`"${current}`);
      current = '';
      continue;
    }
    if (c === '.' || c === '/') {
      if (current) parts.push(current.toUpperCase());
      current = '';
      if (c === '/') return { stageName: parts.map(unmark), subPath: ref.slice(i + 1) };
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (current) parts.push(current.toUpperCase());
  return { stageName: parts.map(unmark), subPath: '' };
}

function unmark(part: string): string {
  return part.startsWith('"') ? part.slice(1) : part;
}

async function resolveFormat(
  ctx: Ctx,
  stageFormat: Options,
  copyFormat: Options | undefined,
): Promise<CsvFormat> {
  const merged: Options = {};
  for (const layer of [stageFormat, copyFormat ?? {}]) {
    const named = optString(layer, 'FORMAT_NAME');
    if (named) {
      const parts = qualify(
        ctx.session,
        named.split('.').map((p) => p.toUpperCase()),
        'COPY',
      );
      const format = await getFileFormat(ctx.conn, parts);
      if (!format) throw objectMissing(parts, 'File format');
      Object.assign(merged, format);
    }
    for (const [k, v] of Object.entries(layer)) if (k !== 'FORMAT_NAME') merged[k] = v;
  }
  const type = (optString(merged, 'TYPE') ?? 'CSV').toUpperCase();
  if (type !== 'CSV') throw unsupported(`COPY of ${type} files (only CSV)`);
  const enclosure = optString(merged, 'FIELD_OPTIONALLY_ENCLOSED_BY');
  return {
    compression: (optString(merged, 'COMPRESSION') ?? 'AUTO').toUpperCase(),
    delimiter: optString(merged, 'FIELD_DELIMITER') ?? ',',
    enclosure: enclosure === undefined || enclosure.toUpperCase() === 'NONE' ? '' : enclosure,
    skipHeader: Number(optString(merged, 'SKIP_HEADER') ?? '0'),
    parseHeader: optBool(merged, 'PARSE_HEADER', false),
    nullIf: optList(merged, 'NULL_IF') ?? ['\\N'],
    emptyAsNull: optBool(merged, 'EMPTY_FIELD_AS_NULL', true),
    columnCountMismatchIsError: optBool(merged, 'ERROR_ON_COLUMN_COUNT_MISMATCH', true),
  };
}

function parseOnError(value: string): OnError {
  const v = value.toUpperCase();
  if (v === 'ABORT_STATEMENT') return { kind: 'ABORT_STATEMENT' };
  if (v === 'CONTINUE') return { kind: 'CONTINUE' };
  if (v === 'SKIP_FILE') return { kind: 'SKIP_FILE', limit: 1 };
  const n = /^SKIP_FILE_(\d+)$/.exec(v);
  if (n) return { kind: 'SKIP_FILE', limit: Number(n[1]) };
  throw unsupported(`ON_ERROR = ${value}`);
}

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url) as RegExpExecArray;
  return { bucket: m[1] as string, prefix: m[2] ?? '' };
}

function joinKey(base: string, name: string): string {
  if (!base) return name;
  return base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}

async function selectObjects(
  s3: S3Client,
  stageUrl: string,
  subPath: string,
  files: string[] | undefined,
  pattern: string | undefined,
): Promise<StagedObject[]> {
  const { bucket, prefix } = parseS3Url(stageUrl);
  const base = subPath ? joinKey(prefix, subPath) : prefix;
  const listed: StagedObject[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue;
        listed.push({
          key: o.Key,
          url: `s3://${bucket}/${o.Key}`,
          etag: (o.ETag ?? '').replace(/"/g, ''),
          size: Number(o.Size ?? 0),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw stageAccessError(stageUrl, err);
  }
  if (files) {
    return files.map((name) => {
      const key = joinKey(base, name);
      const found = listed.find((o) => o.key === key);
      if (!found) {
        throw new SnowflakeSqlError(
          '091016',
          '22000',
          `Remote file 's3://${bucket}/${key}' was not found. Check the file name and the stage location.`,
        );
      }
      return found;
    });
  }
  if (pattern) {
    const re = new RegExp(`^(?:${pattern})$`);
    return listed.filter(
      (o) => re.test(o.key) || re.test(o.key.slice(prefix.length)) || re.test(o.key.slice(base.length)),
    );
  }
  return listed;
}

function stageAccessError(url: string, err: unknown): SnowflakeSqlError {
  const reason = err instanceof Error ? err.name : 'unknown error';
  return new SnowflakeSqlError(
    '091003',
    '22000',
    `Failure using stage area. Cause: [${reason}] reading ${url}`,
  );
}

async function download(s3: S3Client, stageUrl: string, key: string, file: string): Promise<void> {
  const { bucket } = parseS3Url(stageUrl);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(file));
  } catch (err) {
    throw stageAccessError(`s3://${bucket}/${key}`, err);
  }
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

/** The first record after `skip` lines, split into fields, to learn the column count (and header names). */
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

interface LoadSpec {
  readonly object: StagedObject;
  readonly local: string;
  readonly format: CsvFormat;
  readonly onError: OnError;
  readonly match: string;
  readonly table: readonly string[];
  readonly columns: readonly { readonly name: string; readonly sf: SfType; readonly notNull: boolean }[];
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

async function loadFile(ctx: Ctx, spec: LoadSpec): Promise<FileResult> {
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
    const message = `Number of columns in file (${fileColumns.length}) does not match that of the corresponding table (${spec.columns.length}), use file format option error_on_column_count_mismatch=false to ignore this error`;
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
  const insert = `INSERT INTO ${q(spec.table)} (${fields.map((f) => quoteIdent(f.col.name)).join(', ')}) SELECT ${fields
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

function lineOf(err: unknown): number | null {
  const m = /CSV Error on Line: (\d+)/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : null;
}

function csvError(err: unknown): SnowflakeSqlError {
  const message = err instanceof Error ? err.message : String(err);
  const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (columns) {
    return new SnowflakeSqlError(
      '100080',
      '22000',
      `Number of columns in file (${columns[2]}) does not match that of the corresponding table (${columns[1]}), use file format option error_on_column_count_mismatch=false to ignore this error`,
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
