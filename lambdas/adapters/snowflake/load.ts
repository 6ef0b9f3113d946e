// The warehouse's loading side on Snowflake: the objects Tally needs (bootstrap), the historical replace
// and the incremental MERGE through COPY INTO from the stage, with every file's result checked, and
// counts of a target table or window.
import type { S3Config } from '../../config';
import { InvalidConfigError, InvalidInputError, LoadIncompleteError } from '../../domain/errors';
import type { ResolvedTable } from '../../domain/table';
import type { FileLoadResult, LoadResult, Slice, Warehouse } from '../../ports';
import { bootstrapStatements } from './ddl';
import type { Bind, Row, SnowflakeSession } from './session';
import { literal, qualified, stageUrl, targetColumn } from './sql';

/** Snowflake takes at most 1,000 names in one FILES list. */
const MAX_FILES_PER_COPY = 1000;

export class SnowflakeLoader implements Warehouse {
  constructor(
    private readonly session: SnowflakeSession,
    private readonly s3: Pick<S3Config, 'bucket' | 'prefix'>,
  ) {}

  private get config() {
    return this.session.config;
  }

  private table(t: ResolvedTable): string {
    return qualified(this.config, t.targetName);
  }

  async bootstrap(tables: readonly ResolvedTable[]): Promise<void> {
    if (this.config.accessUrl === undefined && this.config.storageIntegration === undefined) {
      throw new InvalidConfigError(
        'snowflake.storageIntegration: set it to the storage integration that lets Snowflake read the bucket (tally snowflake-ddl creates one)',
      );
    }
    for (const sql of bootstrapStatements(this.config, this.s3, tables)) {
      await this.session.query('creating Tally objects in Snowflake', sql);
    }
  }

  /**
   * Historical load: the target becomes exactly the staged files. The DELETE and the COPY run in one
   * transaction on a connection of their own (a shared one would mix in other tables' statements), so a
   * rerun replaces rows instead of adding them and a failure leaves the previous content. FORCE, since a
   * retry stages the same keys, which load history would otherwise skip after the DELETE.
   */
  async replaceWith(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const target = this.table(table);
    const files = this.stageFiles(keys);
    return this.session.dedicated(`replacing the rows of ${table.targetName}`, async (exec) => {
      await exec('BEGIN');
      try {
        await exec(`DELETE FROM ${target}`);
        const results = await this.copy(target, files, exec);
        checkFiles(results, table.targetName);
        await exec('COMMIT');
        return summarize(results);
      } catch (err) {
        // Snowflake rolls back only the failed statement of a transaction: end the whole one here.
        await exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async merge(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const target = this.table(table);
    // One per table, which every load replaces: the table's lease lets one load run at a time, and a load
    // stopped before its DROP (past its step's deadline) leaves a table the next load replaces.
    const staging = qualified(this.config, `${table.targetName}_STAGING`);
    const what = `merging into ${table.targetName}`;
    const query = (sql: string) => this.session.query(what, sql);
    const stageFiles = this.stageFiles(keys);
    await query(`CREATE OR REPLACE TRANSIENT TABLE ${staging} LIKE ${target}`);
    try {
      // A fresh staging table has no load history; FORCE keeps it that way even if it was not replaced.
      const files = await this.copy(staging, stageFiles, query);
      checkFiles(files, table.targetName);
      const summary = summarize(files);
      const keyCols = table.primaryKey.map(targetColumn);
      const columns = table.columns.map((c) => targetColumn(c.name));
      const others = columns.filter((c) => !keyCols.includes(c));
      const on = keyCols.map((k) => `t.${k} = s.${k}`).join(' AND ');
      // A row never moves backwards: re-running an older window after a newer load leaves the target
      // as it is. An equal cursor updates (a no-op for the same version), so a rerun changes nothing.
      const cursor = targetColumn(table.cursorColumn);
      const newer = `(t.${cursor} IS NULL OR s.${cursor} >= t.${cursor})`;
      const update =
        others.length === 0
          ? ''
          : ` WHEN MATCHED AND ${newer} THEN UPDATE SET ${others.map((c) => `${c} = s.${c}`).join(', ')}`;
      const rows = await query(
        `MERGE INTO ${target} t USING ${staging} s ON ${on}${update} WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `s.${c}`).join(', ')})`,
      );
      const row = rows[0] ?? {};
      const inserted = Number(row['number of rows inserted'] ?? 0);
      const updated = Number(row['number of rows updated'] ?? 0);
      return { ...summary, inserted, updated };
    } finally {
      await query(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
    }
  }

  async count(table: ResolvedTable, slice: Slice): Promise<number> {
    const binds: Bind[] = [];
    const conditions: string[] = [];
    if (slice.kind === 'window') {
      const column = targetColumn(table.cursorColumn);
      if (slice.window.from !== null) {
        conditions.push(`${column} >= ?`);
        binds.push(slice.window.from);
      }
      if (slice.window.to !== null) {
        conditions.push(`${column} < ?`);
        binds.push(slice.window.to);
      }
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const rows = await this.session.query(
      `counting ${table.targetName}`,
      `SELECT COUNT(*) AS N FROM ${this.table(table)}${where}`,
      binds,
    );
    return Number(rows[0]?.N ?? 0);
  }

  /** Staged keys as names relative to the stage URL, which is where FILES looks. */
  private stageFiles(keys: readonly string[]): string[] {
    const prefix = stageUrl(this.s3).slice(`s3://${this.s3.bucket}/`.length);
    return keys.map((key) => {
      if (!key.startsWith(prefix) || key.length === prefix.length) {
        throw new InvalidInputError(
          `staged key '${key}' is not under the stage prefix '${prefix}' (s3.prefix)`,
        );
      }
      return key.slice(prefix.length);
    });
  }

  /** COPYs the files in batches that fit one FILES list, FORCE (see the callers), aborting on an error. */
  private async copy(
    target: string,
    files: readonly string[],
    exec: (sql: string) => Promise<Row[]>,
  ): Promise<FileLoadResult[]> {
    const results: FileLoadResult[] = [];
    for (let i = 0; i < files.length; i += MAX_FILES_PER_COPY) {
      const batch = files.slice(i, i + MAX_FILES_PER_COPY);
      const sql = [
        `COPY INTO ${target} FROM @${qualified(this.config, this.config.stage)}`,
        `FILES = (${batch.map(literal).join(', ')})`,
        `FILE_FORMAT = (FORMAT_NAME = ${literal(qualified(this.config, this.config.fileFormat))})`,
        'ON_ERROR = ABORT_STATEMENT FORCE = TRUE',
      ].join(' ');
      const rows = await exec(sql);
      results.push(...fileResults(rows, batch, stageUrl(this.s3)));
    }
    return results;
  }
}

/** Per-file results of a COPY, in the order of `files`. A file the service left out was skipped. */
function fileResults(rows: readonly Row[], files: readonly string[], url: string): FileLoadResult[] {
  const byName = new Map<string, Row>();
  for (const row of rows) {
    const file = row.file;
    if (typeof file !== 'string') continue;
    byName.set(file.startsWith(url) ? file.slice(url.length) : file, row);
  }
  return files.map((file) => {
    const row = byName.get(file);
    // Snowflake answers "Copy executed with 0 files processed." when every file was loaded before.
    if (!row) return { file, status: 'LOAD_SKIPPED', rowsParsed: 0, rowsLoaded: 0, firstError: null };
    return {
      file,
      status: String(row.status) as FileLoadResult['status'],
      rowsParsed: Number(row.rows_parsed ?? 0),
      rowsLoaded: Number(row.rows_loaded ?? 0),
      firstError: typeof row.first_error === 'string' ? row.first_error : null,
    };
  });
}

/** Every file of a forced COPY must be LOADED, each with as many rows loaded as parsed. */
function checkFiles(files: readonly FileLoadResult[], table: string): void {
  for (const f of files) {
    if (f.status !== 'LOADED') {
      throw new LoadIncompleteError(
        `loading ${table}: file ${f.file} ended ${f.status}${f.firstError ? ` (${f.firstError})` : ''}; nothing of this COPY was kept`,
      );
    }
    if (f.rowsParsed !== f.rowsLoaded) {
      throw new LoadIncompleteError(
        `loading ${table}: file ${f.file} parsed ${f.rowsParsed} rows but loaded ${f.rowsLoaded}`,
      );
    }
  }
}

function summarize(files: readonly FileLoadResult[]): LoadResult {
  return {
    files,
    rowsParsed: files.reduce((n, f) => n + f.rowsParsed, 0),
    rowsLoaded: files.reduce((n, f) => n + f.rowsLoaded, 0),
  };
}
