// Snowflake's COPY INTO <table> FROM @stage: lists and reads the stage's objects from the S3 stand-in, leaves out
// files already loaded into the table (unless FORCE), loads each and answers with the per-file rows.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type LoadedFile, loadedFiles, recordLoadSql } from '../catalog';
import type { Ctx } from '../context';
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import { stringParameter } from '../parameters';
import type { Token } from '../sql-tokens';
import { statusResult } from '../status';
import { loadFile } from './load-file';
import { type FileResult, resultSet } from './results';
import { StageObjects } from './stage-objects';
import { loadColumns, planCopy } from './statement';

/** "Copy executed with 0 files processed.": what COPY answers when it finds nothing to load. */
const NOTHING = () => statusResult('Copy executed with 0 files processed.', STATEMENT_TYPE.COPY);

export async function copyInto(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const plan = await planCopy(ctx, tokens);
  const { target, format } = plan;
  const stage = new StageObjects(ctx.options.s3, plan.stage.url);
  try {
    const objects = await stage.select(plan.selection);
    const history = target.kind === 'table' ? await loadedFiles(ctx.conn, target.name) : [];
    // "Unless you explicitly specify FORCE = TRUE ..., the command ignores staged data files that were
    // already loaded into the table": they are not read, and not listed in the result.
    const toLoad = plan.force
      ? objects
      : objects.filter(
          (o) => !history.some((h) => h.file === o.url && h.etag === o.etag && h.size === o.size),
        );
    if (toLoad.length === 0) return NOTHING();
    const columns = await loadColumns(ctx, plan);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-copy-'));
    ctx.keepFile(dir);
    // AUTO in a file format means the session's input format, which AUTO again means detection.
    const input = (own: string, parameter: string) =>
      own.toUpperCase() === 'AUTO' ? stringParameter(parameter, ctx.levels) : own;
    const settings = {
      dateFormat: input(format.dateFormat, 'DATE_INPUT_FORMAT'),
      timeFormat: input(format.timeFormat, 'TIME_INPUT_FORMAT'),
      timestampFormat: input(format.timestampFormat, 'TIMESTAMP_INPUT_FORMAT'),
      timeZone: stringParameter('TIMEZONE', ctx.levels),
      binaryFormat: format.binaryFormat,
      truncateColumns: plan.truncateColumns,
    };
    const results: FileResult[] = [];
    for (const [i, object] of toLoad.entries()) {
      ctx.throwIfCancelled();
      const local = path.join(dir, `${i}${path.extname(object.key)}`);
      await stage.download(object.key, local);
      const result = await loadFile(ctx, {
        object,
        local,
        converted: path.join(dir, `${i}.converted.csv`),
        plain: path.join(dir, `${i}.plain.csv`),
        format,
        settings,
        onError: plan.onError,
        match: plan.match,
        table: target.name,
        columns,
      });
      results.push(result);
      if ((result.status === 'LOADED' || result.status === 'PARTIALLY_LOADED') && target.kind === 'table') {
        const loaded: LoadedFile = { file: object.url, etag: object.etag, size: object.size };
        await ctx.write(recordLoadSql(target.name, loaded, result.loaded));
      }
    }
    return resultSet(plan.returnFailedOnly ? results.filter((r) => r.status !== 'LOADED') : results);
  } finally {
    stage.close();
  }
}
