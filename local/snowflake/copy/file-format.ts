// The CSV file format a COPY reads with: the stage's FILE_FORMAT overlaid by the COPY's own, each of
// them possibly naming a stored file format (Snowflake's CSV format type options).
import { getFileFormat, type Options } from '../catalog';
import { type Ctx, qualify } from '../context';
import { objectMissing, unsupported } from '../errors';
import { optBool, optList, optString } from '../sql-options';
import { Cursor, significant, tokenize } from '../sql-tokens';

export interface CsvFormat {
  readonly compression: string;
  readonly delimiter: string;
  /** FIELD_OPTIONALLY_ENCLOSED_BY; empty for none. */
  readonly enclosure: string;
  readonly skipHeader: number;
  readonly parseHeader: boolean;
  readonly nullIf: readonly string[];
  readonly emptyAsNull: boolean;
  readonly columnCountMismatchIsError: boolean;
}

/** Later layers win, option by option; a FORMAT_NAME brings in the stored format's options first. */
export async function resolveFormat(
  ctx: Ctx,
  stageFormat: Options,
  copyFormat: Options | undefined,
): Promise<CsvFormat> {
  const merged: Options = {};
  for (const layer of [stageFormat, copyFormat ?? {}]) {
    const named = optString(layer, 'FORMAT_NAME');
    if (named) {
      // The name is an identifier even inside a string: quoted parts keep their case, others are upper-cased.
      const parts = qualify(ctx.session, new Cursor(significant(tokenize(named))).name(), 'COPY');
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
