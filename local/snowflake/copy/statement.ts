// COPY INTO <table> [(columns)] FROM @stage[/path] parsed into a plan: file format, FILES, PATTERN, the copy options
// (https://docs.snowflake.com/en/sql-reference/sql/copy-into-table#copy-options-copyoptions) and the privileges it takes.
import { getStage, ownerOf, type StageDef } from '../catalog';
import { type Ctx, qualify, requireTable, type TableLocation } from '../context';
import { describeColumns } from '../ddl/tables';
import { SnowflakeSqlError } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import { invalidParameter } from '../parameters';
import {
  requireIntegrationUsage,
  requireSchemaObjectUsage,
  requireTablePrivilege,
  requireWarehouse,
} from '../privileges';
import { checkColumnList, readName } from '../reserved';
import { parseCanonical, type SfType, sfType } from '../sf-types';
import { optList, optNested, optString, parseOptions } from '../sql-options';
import { Cursor, significant, splitTopLevel, type Token } from '../sql-tokens';
import { type CsvFormat, resolveFormat } from './file-format';
import type { ObjectSelection } from './stage-objects';

export type OnError =
  | { readonly kind: 'ABORT_STATEMENT' | 'CONTINUE' }
  | { readonly kind: 'SKIP_FILE'; readonly limit: number; readonly percent: boolean };

export interface CopyPlan {
  readonly target: TableLocation;
  /** The table columns the file's fields feed, in order; all of them when the COPY names none. */
  readonly columnList: readonly string[] | undefined;
  readonly stage: StageDef;
  readonly selection: ObjectSelection;
  readonly format: CsvFormat;
  readonly onError: OnError;
  readonly force: boolean;
  /** MATCH_BY_COLUMN_NAME: NONE, CASE_SENSITIVE or CASE_INSENSITIVE. */
  readonly match: string;
  /** TRUNCATECOLUMNS, or ENFORCE_LENGTH = FALSE. */
  readonly truncateColumns: boolean;
  readonly returnFailedOnly: boolean;
}

/** A target column as the load converts into it. */
export interface LoadColumn {
  readonly name: string;
  readonly sf: SfType;
  readonly notNull: boolean;
}

/** The copy options and what the stand-in does with each; a name that is not one is refused as Snowflake does. */
const COPY_OPTIONS = new Set([
  'FILES',
  'PATTERN',
  'FILE_FORMAT',
  'VALIDATION_MODE',
  'CLUSTER_AT_INGEST_TIME',
  'ENFORCE_LENGTH',
  'FILE_PROCESSOR',
  'FORCE',
  'INCLUDE_METADATA',
  'LOAD_MODE',
  'LOAD_UNCERTAIN_FILES',
  'MATCH_BY_COLUMN_NAME',
  'ON_ERROR',
  'PURGE',
  'RETURN_FAILED_ONLY',
  'SIZE_LIMIT',
  'TRUNCATECOLUMNS',
]);

/** Options Snowflake has and the stand-in does not model; only their defaults pass. */
const UNMODELLED: Readonly<Record<string, string>> = {
  CLUSTER_AT_INGEST_TIME: 'FALSE',
  LOAD_MODE: 'FULL_INGEST',
  PURGE: 'FALSE',
};

function boolOption(options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^(TRUE|FALSE)$/i.test(v)) {
    throw new SnowflakeSqlError(
      '001006',
      '22023',
      `SQL compilation error:\ninvalid value [${String(v)}] for parameter '${key}'`,
    );
  }
  return v.toUpperCase() === 'TRUE';
}

export async function planCopy(ctx: Ctx, tokens: readonly Token[]): Promise<CopyPlan> {
  const cur = new Cursor(significant(tokens));
  cur.expect('COPY', 'INTO');
  if (cur.peek()?.kind === 'stage') throw unsupported('COPY INTO @stage (unloading)');
  const target = await requireTable(ctx, readName(cur));
  if (target.kind === 'table') await requireTablePrivilege(ctx, target.name, 'INSERT');
  let columnList: string[] | undefined;
  if (cur.peek()?.text === '(') {
    const group = cur.parenGroup();
    checkColumnList(group);
    columnList = splitTopLevel(group).map((p) => new Cursor(p).ident());
  }
  cur.expect('FROM');
  const from = cur.next();
  if (from.kind !== 'stage') throw unsupported('COPY INTO from anything but @stage (transformations, URLs)');
  const options = parseOptions(cur);
  for (const key of Object.keys(options)) if (!COPY_OPTIONS.has(key)) throw invalidParameter(key);
  if (options.VALIDATION_MODE) throw unsupported('COPY with VALIDATION_MODE');
  for (const key of ['FILE_PROCESSOR', 'INCLUDE_METADATA', 'SIZE_LIMIT']) {
    if (options[key] !== undefined) throw unsupported(`COPY option ${key}`);
  }
  for (const [key, fallback] of Object.entries(UNMODELLED)) {
    const v = optString(options, key);
    if (v !== undefined && v.toUpperCase() !== fallback) throw unsupported(`COPY option ${key} = ${v}`);
  }

  const { stageName, subPath } = splitStageRef(from.value);
  const stageParts = qualify(ctx.session, stageName, 'COPY');
  const stage = await getStage(ctx.conn, stageParts);
  if (!stage) throw objectMissing(stageParts, 'Stage');
  await requireSchemaObjectUsage(ctx, 'STAGE', stageParts);
  if (stage.integration) {
    await requireIntegrationUsage(ctx, stage.integration, await ownerOf(ctx.conn, 'STAGE', stageParts));
  }
  const { format, used } = await resolveFormat(ctx, stage.format, optNested(options, 'FILE_FORMAT'));
  for (const name of used) await requireSchemaObjectUsage(ctx, 'FILE_FORMAT', name);
  await requireWarehouse(ctx);
  const onError = parseOnError(optString(options, 'ON_ERROR') ?? 'ABORT_STATEMENT');
  const force = boolOption(options, 'FORCE', false);
  boolOption(options, 'LOAD_UNCERTAIN_FILES', false);
  const enforceLength = boolOption(options, 'ENFORCE_LENGTH', true);
  const truncateColumns = boolOption(options, 'TRUNCATECOLUMNS', !enforceLength);
  const match = (optString(options, 'MATCH_BY_COLUMN_NAME') ?? 'NONE').toUpperCase();
  if (!['NONE', 'CASE_SENSITIVE', 'CASE_INSENSITIVE'].includes(match)) {
    throw new SnowflakeSqlError(
      '001006',
      '22023',
      `SQL compilation error:\ninvalid value [${match}] for parameter 'MATCH_BY_COLUMN_NAME'`,
    );
  }
  if (match !== 'NONE' && !format.parseHeader) {
    throw new SnowflakeSqlError(
      '002088',
      '22000',
      'SQL compilation error:\nMATCH_BY_COLUMN_NAME with CSV requires the file format option PARSE_HEADER = TRUE.',
    );
  }
  const files = optList(options, 'FILES');
  // "The maximum number of files names that can be specified is 1000."
  if (files && files.length > 1000) {
    throw new SnowflakeSqlError(
      '001006',
      '22023',
      'SQL compilation error:\nthe FILES list holds more than 1000 names',
    );
  }
  const selection = { subPath, files, pattern: optString(options, 'PATTERN') };
  return {
    target,
    columnList,
    stage,
    selection,
    format,
    onError,
    force,
    match,
    truncateColumns,
    returnFailedOnly: boolOption(options, 'RETURN_FAILED_ONLY', false),
  };
}

/**
 * The target columns with the Snowflake types they were declared with. Resolved only once there are files
 * to load: a COPY that finds none answers "0 files processed" even with a wrong column list.
 */
export async function loadColumns(ctx: Ctx, plan: CopyPlan): Promise<LoadColumn[]> {
  const columns = await describeColumns(ctx, plan.target.name);
  const targetColumns = plan.columnList
    ? plan.columnList.map((name) => {
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
  return targetColumns.map((c) => ({
    name: c.name,
    sf: parseCanonical(c.canonical) ?? sfType('VARCHAR'),
    notNull: c.notNull,
  }));
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

/** ON_ERROR = CONTINUE | SKIP_FILE | SKIP_FILE_<num> | 'SKIP_FILE_<num>%' | ABORT_STATEMENT. */
function parseOnError(value: string): OnError {
  const v = value.toUpperCase();
  if (v === 'ABORT_STATEMENT') return { kind: 'ABORT_STATEMENT' };
  if (v === 'CONTINUE') return { kind: 'CONTINUE' };
  if (v === 'SKIP_FILE') return { kind: 'SKIP_FILE', limit: 1, percent: false };
  const n = /^SKIP_FILE_(\d+)(%?)$/.exec(v);
  if (n) return { kind: 'SKIP_FILE', limit: Number(n[1]), percent: n[2] === '%' };
  throw new SnowflakeSqlError(
    '001006',
    '22023',
    `SQL compilation error:\ninvalid value [${value}] for parameter 'ON_ERROR'`,
  );
}
