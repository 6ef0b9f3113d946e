// The warehouse's loading side on Snowflake: the objects Tally needs (bootstrap), the historical replace
// and the incremental MERGE through COPY INTO from the stage, with every file's result checked, and
// counts of a target table or window.
import type { S3Config } from '../../config';
import type { CodecName } from '../../domain/compression';
import { batches, DELETED_MARK_COLUMN } from '../../domain/deletes';
import {
  DuplicateKeyError,
  InvalidConfigError,
  InvalidInputError,
  LoadIncompleteError,
  SourceSchemaError,
  WarehouseObjectMissingError,
} from '../../domain/errors';
import type { RowDigest, RowRequest, SegmentRequest, SegmentSum } from '../../domain/reconcile';
import { qualifiedName, type ResolvedTable } from '../../domain/table';
import { targetTypeOf } from '../../domain/type-mapping';
import type { FileLoadResult, LoadResult, Slice, Warehouse } from '../../ports';
import { digestRows, rowDigestsSql, segmentRows, segmentSumsSql, sliceWhere } from './checksum';
import { bootstrapStatements, createSchema, type PresentObjects } from './ddl';
import { addMarkSql, changeKeysSql, DELETED_MARK, KEYS_PER_STATEMENT, visibleRows } from './deletes';
import type { Bind, Row, SnowflakeSession } from './session';
import {
  checkTargetColumns,
  ident,
  literal,
  qualified,
  stageUrl,
  storedName,
  targetColumn,
  targetName,
} from './sql';
import { snowflakeType } from './types';

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

  /** The target's rows counts and checksums see: a soft-deleting table's marked rows left out. */
  private visible(t: ResolvedTable): string {
    return visibleRows(this.table(t), t);
  }

  async bootstrap(tables: readonly ResolvedTable[], codec: CodecName): Promise<void> {
    if (this.config.accessUrl === undefined && this.config.storageIntegration === undefined) {
      throw new InvalidConfigError(
        'snowflake.storageIntegration: set it to the storage integration that lets Snowflake read the bucket (tally snowflake-ddl creates one)',
      );
    }
    for (const t of tables)
      checkTargetColumns(
        qualifiedName(t),
        t.columns.map((c) => c.name),
      );
    const what = 'creating Tally objects in Snowflake';
    let present: PresentObjects;
    try {
      present = await this.present();
    } catch (err) {
      // Every object the bootstrap makes lives in the schema, so a missing object here is the schema.
      // Creating it needs CREATE SCHEMA on the database, which on a real account only the
      // administrator's script holds: so it is asked for only when the schema is missing.
      if (!(err instanceof WarehouseObjectMissingError)) throw err;
      await this.session.query(what, createSchema(this.config)).catch((cause: unknown) => {
        throw new WarehouseObjectMissingError(
          `${what}: schema ${this.config.database}.${this.config.schema} does not exist and snowflake.role may not create it: run the administrator's script (tally snowflake-ddl), or check snowflake.database and snowflake.schema`,
          { cause },
        );
      });
      present = { tables: new Set() };
    }
    for (const sql of bootstrapStatements(this.config, this.s3, tables, present, codec)) {
      await this.session.query(what, sql);
    }
  }

  /** What Tally's schema holds already: three SHOW statements, which need no warehouse. */
  private async present(): Promise<PresentObjects> {
    const what = "reading what Tally's Snowflake schema holds";
    const schema = `${ident(this.config.database)}.${ident(this.config.schema)}`;
    const comment = async (kind: 'FILE FORMATS' | 'STAGES', name: string) => {
      // LIKE matches case-insensitively and reads `_` as any character: the exact name is picked after.
      const rows = await this.session.query(what, `SHOW ${kind} LIKE ${literal(name)} IN SCHEMA ${schema}`);
      const row = rows.find((r) => r.name === storedName(name));
      return row === undefined ? undefined : String(row.comment ?? '');
    };
    const fileFormatComment = await comment('FILE FORMATS', this.config.fileFormat);
    const stageComment = await comment('STAGES', this.config.stage);
    const tables = await this.session.query(what, `SHOW TERSE TABLES IN SCHEMA ${schema}`);
    return {
      ...(fileFormatComment === undefined ? {} : { fileFormatComment }),
      ...(stageComment === undefined ? {} : { stageComment }),
      tables: new Set(tables.map((t) => String(t.name))),
    };
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
        const results = await this.copy(target, table, files, exec);
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

  /**
   * The copy a chunked load fills: a permanent table (it becomes the target), named with a hyphen so that
   * no configured target can have its name (as the MERGE's staging table).
   */
  private loadCopyName(table: ResolvedTable): string {
    return qualified(this.config, `TALLY-LOAD-${table.targetName}`);
  }

  /**
   * A fresh copy of the target, made LIKE it with its grants (COPY GRANTS, every privilege but OWNERSHIP,
   * which stays with the loader role that creates it), so that once swapped in the readers keep their
   * access. Dropped first: CREATE OR REPLACE ... COPY GRANTS would copy the grants of the table it
   * replaces, and a new table starts with no load metadata. The target is not touched: readers and other
   * sessions see it as it was until the swap.
   */
  async prepareCopy(table: ResolvedTable): Promise<void> {
    const what = `preparing the copy of ${table.targetName}`;
    const copy = this.loadCopyName(table);
    await this.session.query(what, `DROP TABLE IF EXISTS ${copy}`);
    await this.session.query(what, `CREATE TABLE ${copy} LIKE ${this.table(table)} COPY GRANTS`);
  }

  /**
   * One chunk's files into the copy, without FORCE: Snowflake leaves out a file its load metadata shows
   * loaded into the copy already (a retry after a COPY that committed), which the result lists as
   * LOAD_SKIPPED; every file it reads must load whole.
   */
  async loadIntoCopy(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const copy = this.loadCopyName(table);
    const query = (sql: string) =>
      this.session.query(`loading a chunk into the copy of ${table.targetName}`, sql);
    const files = await this.copy(copy, table, this.stageFiles(keys), query, { force: false });
    checkFiles(
      files.filter((f) => f.status !== 'LOAD_SKIPPED'),
      table.targetName,
    );
    return summarize(files);
  }

  async countCopy(table: ResolvedTable): Promise<{ copy: number | null; target: number }> {
    const what = `counting the copy of ${table.targetName}`;
    const count = async (name: string) =>
      Number((await this.session.query(what, `SELECT COUNT(*) AS N FROM ${name}`))[0]?.N ?? -1);
    // LIKE reads `_` as any character and matches case-insensitively: the exact name is picked after.
    const name = `TALLY-LOAD-${table.targetName}`;
    const schema = `${ident(this.config.database)}.${ident(this.config.schema)}`;
    const shown = await this.session.query(
      what,
      `SHOW TERSE TABLES LIKE ${literal(name)} IN SCHEMA ${schema}`,
    );
    const exists = shown.some((r) => r.name === storedName(name));
    return {
      copy: exists ? await count(this.loadCopyName(table)) : null,
      target: await count(this.table(table)),
    };
  }

  /**
   * Swaps the filled copy in (ALTER TABLE ... SWAP WITH: both tables renamed in one transaction, a
   * metadata change that holds neither for longer).
   */
  async swapInCopy(table: ResolvedTable): Promise<void> {
    await this.session.query(
      `swapping the loaded copy into ${table.targetName}`,
      `ALTER TABLE ${this.loadCopyName(table)} SWAP WITH ${this.table(table)}`,
    );
  }

  async dropCopy(table: ResolvedTable): Promise<void> {
    await this.session
      .query(`dropping the copy of ${table.targetName}`, `DROP TABLE IF EXISTS ${this.loadCopyName(table)}`)
      .catch(() => undefined);
  }

  async merge(table: ResolvedTable, keys: readonly string[]): Promise<LoadResult> {
    const target = this.table(table);
    // One per table, which every load replaces: the table's lease lets one load run at a time, and a load
    // stopped before its DROP (past its step's deadline) leaves a table the next load replaces. The hyphen
    // keeps it apart from every target: configured names cannot hold one.
    const staging = qualified(this.config, `TALLY-STAGING-${table.targetName}`);
    const what = `merging into ${table.targetName}`;
    const query = (sql: string) => this.session.query(what, sql);
    const stageFiles = this.stageFiles(keys);
    await query(`CREATE OR REPLACE TRANSIENT TABLE ${staging} LIKE ${target}`);
    try {
      // A fresh staging table has no load history; FORCE keeps it that way even if it was not replaced.
      const files = await this.copy(staging, table, stageFiles, query);
      checkFiles(files, table.targetName);
      const summary = summarize(files);
      const keyCols = table.primaryKey.map(targetColumn);
      await refuseDuplicateKeys(query, staging, table, keyCols);
      const columns = table.columns.map((c) => targetColumn(c.name));
      const others = columns.filter((c) => !keyCols.includes(c));
      const on = keyCols.map((k) => `t.${k} = s.${k}`).join(' AND ');
      // A row never moves backwards: re-running an older window after a newer load leaves the target
      // as it is. An equal cursor updates (a no-op for the same version), so a rerun changes nothing.
      const cursor = targetColumn(table.cursorColumn);
      const newer = `(t.${cursor} IS NULL OR s.${cursor} >= t.${cursor})`;
      // In soft mode a key merged again is back at the source: its mark is cleared with the update.
      const sets = [
        ...others.map((c) => `${c} = s.${c}`),
        ...(table.deletes === 'soft' ? [`${DELETED_MARK} = NULL`] : []),
      ];
      const update = sets.length === 0 ? '' : ` WHEN MATCHED AND ${newer} THEN UPDATE SET ${sets.join(', ')}`;
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
    const { condition, binds } = sliceWhere(table, slice);
    const rows = await this.session.query(
      `counting ${table.targetName}`,
      `SELECT COUNT(*) AS N FROM ${this.visible(table)} WHERE ${condition}`,
      binds,
    );
    return Number(rows[0]?.N ?? 0);
  }

  async segmentSums(table: ResolvedTable, slice: Slice, request: SegmentRequest): Promise<SegmentSum[]> {
    const { sql, binds } = segmentSumsSql(this.visible(table), table, slice, request);
    return segmentRows(await this.session.query(`checksumming ${table.targetName}`, sql, binds));
  }

  async rowDigests(table: ResolvedTable, slice: Slice, request: RowRequest): Promise<RowDigest[]> {
    const { sql, binds, columns } = rowDigestsSql(this.visible(table), table, slice, request);
    return digestRows(
      await this.session.query(`reading row digests of ${table.targetName}`, sql, binds),
      columns,
    );
  }

  async targetDrift(table: ResolvedTable): Promise<readonly string[]> {
    const rows = await this.session.query(
      `describing ${table.targetName}`,
      `DESCRIBE TABLE ${this.table(table)}`,
    );
    const actual = new Map(rows.map((r) => [String(r.name), String(r.type)]));
    const expected = new Map(
      table.columns.map((c) => [targetName(c.name), snowflakeType(targetTypeOf(c, table))] as const),
    );
    const drift: string[] = [];
    for (const [name, type] of expected) {
      const has = actual.get(name);
      if (has === undefined)
        drift.push(`column "${name}" (${type}) is not in the target: added at the source?`);
      else if (!sameType(has, type)) {
        drift.push(`column "${name}" is ${has} in the target but the source maps to ${type}: retyped?`);
      }
    }
    for (const name of actual.keys()) {
      // Tally's own column, added for soft deletes (`addDeletedMark`), is no column of the source.
      if (!expected.has(name) && name !== DELETED_MARK_COLUMN)
        drift.push(`the target's column "${name}" is not in the source: dropped at the source?`);
    }
    return drift;
  }

  async addDeletedMark(table: ResolvedTable): Promise<void> {
    if (table.columns.some((c) => targetName(c.name) === DELETED_MARK_COLUMN)) {
      throw new SourceSchemaError(
        `${qualifiedName(table)}: a source column is named ${DELETED_MARK_COLUMN}, the column soft deletes mark rows in: set deletes to 'report' or 'propagate' for this table`,
      );
    }
    const what = `adding ${DELETED_MARK_COLUMN} to ${table.targetName}`;
    const rows = await this.session.query(what, `DESCRIBE TABLE ${this.table(table)}`);
    // Once the column is there, nothing is altered: a run only reads the table's description.
    if (rows.some((r) => String(r.name) === DELETED_MARK_COLUMN)) return;
    await this.session.query(what, addMarkSql(this.table(table)));
  }

  markDeleted(table: ResolvedTable, slice: Slice, keys: readonly string[]): Promise<number> {
    return this.changeKeys(
      `marking rows of ${table.targetName} deleted`,
      keys,
      (batch) => changeKeysSql('mark', this.table(table), table, slice, batch),
      'number of rows updated',
    );
  }

  deleteKeys(table: ResolvedTable, slice: Slice, keys: readonly string[]): Promise<number> {
    return this.changeKeys(
      `deleting rows of ${table.targetName}`,
      keys,
      (batch) => changeKeysSql('delete', this.table(table), table, slice, batch),
      'number of rows deleted',
    );
  }

  /** One statement per batch of keys, each answering its count of changed rows; their sum. */
  private async changeKeys(
    what: string,
    keys: readonly string[],
    statement: (batch: readonly string[]) => { sql: string; binds: Bind[] },
    countColumn: string,
  ): Promise<number> {
    let changed = 0;
    for (const batch of batches(keys, KEYS_PER_STATEMENT)) {
      const { sql, binds } = statement(batch);
      const rows = await this.session.query(what, sql, binds);
      changed += Number(rows[0]?.[countColumn] ?? 0);
    }
    return changed;
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

  /**
   * COPYs the files in batches that fit one FILES list, FORCE unless told otherwise (see the callers),
   * aborting on an error.
   * The COPY names the columns the files' fields feed, in the export's order, so a target whose columns
   * are in another order loads each field into its own column.
   */
  private async copy(
    target: string,
    table: ResolvedTable,
    files: readonly string[],
    exec: (sql: string) => Promise<Row[]>,
    options: { readonly force: boolean } = { force: true },
  ): Promise<FileLoadResult[]> {
    const results: FileLoadResult[] = [];
    const columns = table.columns.map((c) => targetColumn(c.name)).join(', ');
    for (let i = 0; i < files.length; i += MAX_FILES_PER_COPY) {
      const batch = files.slice(i, i + MAX_FILES_PER_COPY);
      const sql = [
        `COPY INTO ${target} (${columns}) FROM @${qualified(this.config, this.config.stage)}`,
        `FILES = (${batch.map(literal).join(', ')})`,
        `FILE_FORMAT = (FORMAT_NAME = ${literal(qualified(this.config, this.config.fileFormat))})`,
        `ON_ERROR = ABORT_STATEMENT FORCE = ${options.force ? 'TRUE' : 'FALSE'}`,
      ].join(' ');
      const rows = await exec(sql);
      results.push(...fileResults(rows, batch, stageUrl(this.s3)));
    }
    return results;
  }
}

/**
 * Whether a target column's type holds what the source maps to: the same kind and, for NUMBER, the same
 * scale and at least the precision. Lengths and fractional-second precisions are not compared: a target
 * made by an earlier Tally declared plain VARCHAR (16,777,216) and still loads what fits it.
 */
function sameType(actual: string, expected: string): boolean {
  const parse = (t: string) => {
    const m = /^([A-Z_]+)(?:\((\d+)(?:,\s*(\d+))?\))?$/.exec(t.toUpperCase().replace(/\s+/g, ''));
    return { kind: m?.[1] ?? t, precision: Number(m?.[2] ?? 0), scale: Number(m?.[3] ?? 0) };
  };
  const a = parse(actual);
  const e = parse(expected);
  if (a.kind !== e.kind) return false;
  return a.kind !== 'NUMBER' || (a.scale === e.scale && a.precision >= e.precision);
}

/**
 * A MERGE inserts a staged key as often as it appears when the target lacks it, so a window holding a key
 * twice would leave it twice in the target: refused, naming the keys, before the MERGE runs.
 */
async function refuseDuplicateKeys(
  query: (sql: string) => Promise<Row[]>,
  staging: string,
  table: ResolvedTable,
  keyCols: readonly string[],
): Promise<void> {
  const keys = keyCols.join(', ');
  const rows = await query(
    `SELECT ${keys}, COUNT(*) AS "N" FROM ${staging} GROUP BY ${keys} HAVING COUNT(*) > 1 ORDER BY ${keys} LIMIT 5`,
  );
  if (rows.length === 0) return;
  const names = table.primaryKey.map(targetName);
  const shown = rows.map((r) => `(${names.map((n) => String(r[n])).join(', ')}) ×${String(r.N)}`).join(', ');
  throw new DuplicateKeyError(
    `merging into ${table.targetName}: the staged window of ${qualifiedName(table)} holds primary key (${table.primaryKey.join(', ')}) more than once: ${shown}; nothing was merged (is the configured primaryKey the table's real key?)`,
  );
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
