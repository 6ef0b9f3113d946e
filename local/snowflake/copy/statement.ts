// COPY INTO <table> [(columns)] FROM @stage[/path] parsed into a plan: file format, FILES, PATTERN,
// ON_ERROR, FORCE and MATCH_BY_COLUMN_NAME. Unloading, transformations and URLs as sources are refused.
import { checkTablePrivilege, getStage, type StageDef } from '../catalog';
import { type Ctx, qualify, requireTable, type TableLocation } from '../context';
import { describeColumns } from '../ddl/tables';
import { SnowflakeSqlError } from '../engine-types';
import { objectMissing, unsupported } from '../errors';
import { parseCanonical, type SfType, sfType } from '../sf-types';
import { optBool, optList, optNested, optString, parseOptions } from '../sql-options';
import { Cursor, significant, splitTopLevel, type Token } from '../sql-tokens';
import { type CsvFormat, resolveFormat } from './file-format';
import type { ObjectSelection } from './stage-objects';

export type OnError =
  | { readonly kind: 'ABORT_STATEMENT' | 'CONTINUE' }
  | { readonly kind: 'SKIP_FILE'; readonly limit: number };

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
}

/** A target column as the load converts into it. */
export interface LoadColumn {
  readonly name: string;
  readonly sf: SfType;
  readonly notNull: boolean;
}

export async function planCopy(ctx: Ctx, tokens: readonly Token[]): Promise<CopyPlan> {
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
  const selection = { subPath, files: optList(options, 'FILES'), pattern: optString(options, 'PATTERN') };
  return { target, columnList, stage, selection, format, onError, force, match };
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

function parseOnError(value: string): OnError {
  const v = value.toUpperCase();
  if (v === 'ABORT_STATEMENT') return { kind: 'ABORT_STATEMENT' };
  if (v === 'CONTINUE') return { kind: 'CONTINUE' };
  if (v === 'SKIP_FILE') return { kind: 'SKIP_FILE', limit: 1 };
  const n = /^SKIP_FILE_(\d+)$/.exec(v);
  if (n) return { kind: 'SKIP_FILE', limit: Number(n[1]) };
  throw unsupported(`ON_ERROR = ${value}`);
}
