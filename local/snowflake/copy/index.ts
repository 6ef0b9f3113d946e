// Snowflake's COPY INTO <table> FROM @stage: lists and reads the stage's objects from the S3 stand-in,
// skips files already loaded into the table (unless FORCE), loads each and answers with the per-file rows.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type LoadedFile, loadedFiles, recordLoadSql } from '../catalog';
import type { Ctx } from '../context';
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import type { Token } from '../sql-tokens';
import { statusResult } from '../status';
import { loadFile } from './load-file';
import { type FileResult, resultSet, skipped } from './results';
import { StageObjects } from './stage-objects';
import { loadColumns, planCopy } from './statement';

export async function copyInto(ctx: Ctx, tokens: readonly Token[]): Promise<QueryResult> {
  const plan = await planCopy(ctx, tokens);
  const { target } = plan;
  const stage = new StageObjects(ctx.options.s3, plan.stage.url);
  try {
    const objects = await stage.select(plan.selection);
    if (objects.length === 0)
      return statusResult('Copy executed with 0 files processed.', STATEMENT_TYPE.COPY);
    const history = target.kind === 'table' ? await loadedFiles(ctx.conn, target.name) : [];
    const columns = await loadColumns(ctx, plan);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sf-copy-'));
    ctx.keepFile(dir);
    const results: FileResult[] = [];
    for (const object of objects) {
      // Snowflake's load metadata: the same file with the same ETag and size is not loaded twice.
      if (
        !plan.force &&
        history.some((h) => h.file === object.url && h.etag === object.etag && h.size === object.size)
      ) {
        results.push(skipped(object.url));
        continue;
      }
      const local = path.join(dir, `${results.length}${path.extname(object.key)}`);
      await stage.download(object.key, local);
      const result = await loadFile(ctx, {
        object,
        local,
        format: plan.format,
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
    return resultSet(results);
  } finally {
    stage.close();
  }
}
