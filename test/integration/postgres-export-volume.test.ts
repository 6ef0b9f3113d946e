import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveCompression } from '../../lambdas/adapters/compression';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { partKey } from '../../lambdas/adapters/postgres/csv-parts';
import { createS3Client, S3Stage } from '../../lambdas/adapters/s3';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { freePort } from '../../local/free-port';
import { ALL_TYPES_ROWS, allTypesSpec, createAllTypes, insertGeneratedRows } from '../support/all-types';
import { pgClient, pgConfig, readParts, s3Config } from '../support/postgres';

const SCHEMA = 'export_volume_test';
const ROWS = 40_000;
/** The fixture's own rows (ids 1..8) plus the generated ones. */
const TOTAL = ROWS + ALL_TYPES_ROWS.length;
const FIRST_ID = 1_000;
const WINDOW = { from: '2024-06-01T00:00:00Z', to: '2024-07-01T00:00:00Z' };
const MiB = 1024 * 1024;

let admin: pg.Client;
let source: PostgresSource;
let stage: S3Stage;
const s3 = createS3Client(s3Config());

beforeAll(async () => {
  admin = await pgClient();
  for (const table of ['busy', 'split']) {
    await createAllTypes(admin, { schema: SCHEMA, table });
    await insertGeneratedRows(admin, FIRST_ID, ROWS, { schema: SCHEMA, table });
  }
  source = new PostgresSource(pgConfig());
  stage = new S3Stage(s3Config());
});

afterAll(async () => {
  await source?.close();
  await admin?.end();
});

/**
 * Commits, one statement at a time until stopped: two rows inserted into the window, one row moved out
 * of it and one changed in place, so the window's count grows by one per round.
 */
function startWriter(client: pg.Client): {
  stop(): Promise<void>;
  commits: () => number;
  done: Promise<void>;
} {
  let running = true;
  let commits = 0;
  const done = (async () => {
    let next = 10_000_000;
    while (running) {
      const id = next;
      next += 2;
      await client.query(
        `INSERT INTO ${SCHEMA}.busy (id, updated_at, c_text)
         VALUES ($1, '2024-06-15T00:00:00Z', 'inserted during export'), ($1 + 1, '2024-06-16T00:00:00Z', NULL)`,
        [id],
      );
      await client.query(
        `UPDATE ${SCHEMA}.busy SET updated_at = updated_at + interval '60 days', c_text = 'moved out' WHERE id = $1`,
        [FIRST_ID + ((id / 2) % ROWS)],
      );
      await client.query(`UPDATE ${SCHEMA}.busy SET c_text = 'changed in place' WHERE id = $1`, [
        FIRST_ID + ((id / 2 + ROWS / 2) % ROWS),
      ]);
      commits += 3;
    }
  })();
  done.catch(() => {});
  return {
    done,
    commits: () => commits,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('export while other sessions write', () => {
  it("reports exactly the rows in its files while another connection inserts and updates the window's rows", async () => {
    const table = await source.resolve(allTypesSpec({ schema: SCHEMA, table: 'busy' }));
    const writerClient = await pgClient();
    const writer = startWriter(writerClient);
    try {
      while (writer.commits() < 20) await Promise.race([writer.done, new Promise((r) => setTimeout(r, 5))]);
      const before = writer.commits();
      const result = await source.export(table, { kind: 'window', window: WINDOW }, stage, {
        keyPrefix: `${SCHEMA}/busy`,
        compression: { codec: 'gzip', level: 1 },
      });
      const during = writer.commits() - before;
      await writer.stop();

      const parts = await readParts(
        s3,
        stage.bucket,
        result.files.map((f) => f.key),
        { nulls: false },
      );
      const ids = parts.flatMap((p) => p.records.map((r) => r[0]));
      expect(result.sourceCount).toBe(ids.length);
      expect(result.rows).toBe(ids.length);
      expect(new Set(ids).size).toBe(ids.length);
      // The writer really changed the window while the export ran, so a later count differs.
      expect(during).toBeGreaterThan(0);
      expect(await source.count(table, { kind: 'window', window: WINDOW })).not.toBe(result.rows);
    } finally {
      await writer.stop();
      await writerClient.end();
    }
  });
});

describe('part files', () => {
  let table: ResolvedTable;
  beforeAll(async () => {
    table = await source.resolve(allTypesSpec({ schema: SCHEMA, table: 'split' }));
  });

  it('starts a new part at the size limit, each with the header, no record split, rows summing to the total', async () => {
    const prefix = `${SCHEMA}/split/all`;
    const result = await source.export(table, { kind: 'all' }, stage, {
      keyPrefix: prefix,
      maxFileBytes: MiB,
      compression: { codec: 'gzip', level: 1 },
    });
    expect(result.files.length).toBeGreaterThan(2);
    expect(result.files.map((f) => f.key)).toEqual(
      result.files.map((_, i) => `${prefix}/part-${String(i).padStart(5, '0')}.csv.gz`),
    );
    expect(await stage.list(`${prefix}/`)).toEqual(result.files.map((f) => f.key));
    expect(result.rows).toBe(TOTAL);
    expect(result.files.reduce((s, f) => s + f.rows, 0)).toBe(TOTAL);
    for (const f of result.files.slice(0, -1)) expect(f.compressedBytes).toBeGreaterThanOrEqual(MiB);

    const parts = await readParts(
      s3,
      stage.bucket,
      result.files.map((f) => f.key),
      { nulls: false },
    );
    const header = parts[0]?.header;
    expect(header?.[0]).toBe('id');
    const ids: number[] = [];
    parts.forEach((part, i) => {
      expect(part.header).toEqual(header);
      // Every part ends with a complete record, and parses alone: no quoted field runs over a file edge.
      expect(part.text.endsWith('\n')).toBe(true);
      expect(part.records.length).toBe(result.files[i]?.rows);
      expect(new Set(part.records.map((r) => r.length))).toEqual(new Set([header?.length]));
      for (const r of part.records) ids.push(Number(r[0]));
    });
    const expected = [
      ...ALL_TYPES_ROWS.map((r) => Number(r.id)),
      ...Array.from({ length: ROWS }, (_, i) => FIRST_ID + i),
    ];
    expect(ids.sort((a, b) => a - b)).toEqual(expected);
    expect(result.compressedBytes).toBe(result.files.reduce((s, f) => s + f.compressedBytes, 0));
    expect(result.rawBytes).toBe(parts.reduce((s, p) => s + Buffer.byteLength(p.text), 0));
  });

  it('removes stale parts of an earlier attempt that wrote more of them', async () => {
    const prefix = `${SCHEMA}/split/retry`;
    const first = await source.export(table, { kind: 'all' }, stage, {
      keyPrefix: prefix,
      maxFileBytes: MiB,
      compression: { codec: 'gzip', level: 1 },
    });
    expect(first.files.length).toBeGreaterThan(1);
    const second = await source.export(table, { kind: 'all' }, stage, { keyPrefix: prefix });
    // The second attempt has the default codec: the first's gzip parts go whatever the extension.
    const only = partKey(prefix, 0, effectiveCompression(undefined).codec);
    expect(second.files.map((f) => f.key)).toEqual([only]);
    expect(await stage.list(`${prefix}/`)).toEqual([only]);
    expect(second.rows).toBe(TOTAL);
  });

  it('ends in a named error and leaves no object when S3 is unreachable', async () => {
    const port = await freePort();
    const down = new S3Stage(s3Config({ endpoint: `http://127.0.0.1:${port}` }));
    const prefix = `${SCHEMA}/split/unreachable`;
    await expect(source.export(table, { kind: 'all' }, down, { keyPrefix: prefix })).rejects.toMatchObject({
      name: 'StageUnavailableError',
      message: expect.stringMatching(/check s3\.endpoint/),
    });
    expect(await stage.list(`${prefix}/`)).toEqual([]);
  });

  it('removes the parts already written when the stage fails part-way through', async () => {
    const prefix = `${SCHEMA}/split/fails-later`;
    let uploads = 0;
    // The real stage, except that the third part's upload fails after consuming some of its body.
    const flaky: S3Stage = Object.create(stage);
    flaky.upload = async (key, body, contentType) => {
      uploads++;
      if (uploads < 3) return stage.upload(key, body, contentType);
      for await (const _ of body) break;
      throw new Error('simulated S3 failure');
    };
    await expect(
      source.export(table, { kind: 'all' }, flaky, {
        keyPrefix: prefix,
        maxFileBytes: MiB,
        compression: { codec: 'gzip', level: 1 },
      }),
    ).rejects.toThrow('simulated S3 failure');
    expect(uploads).toBe(3);
    expect(await stage.list(`${prefix}/`)).toEqual([]);
    // The source connection is usable afterwards.
    expect(await source.count(table, { kind: 'all' })).toBe(TOTAL);
  });

  it('ends in a transient error and leaves no object when PostgreSQL drops the connection mid-export', async () => {
    const prefix = `${SCHEMA}/split/terminated`;
    let uploads = 0;
    // The real stage; when the second part starts, the export's backend is terminated by an administrator.
    const watching: S3Stage = Object.create(stage);
    watching.upload = async (key, body, contentType) => {
      uploads++;
      if (uploads === 2) {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'tally' AND query LIKE 'COPY%' AND query LIKE '%${SCHEMA}%'`,
        );
      }
      return stage.upload(key, body, contentType);
    };
    await expect(
      source.export(table, { kind: 'all' }, watching, {
        keyPrefix: prefix,
        maxFileBytes: MiB,
        compression: { codec: 'gzip', level: 1 },
      }),
    ).rejects.toMatchObject({ name: 'SourceUnavailableError', transient: true });
    // Rows already in flight may start another part before the loss is seen; none of them may remain.
    expect(uploads).toBeGreaterThanOrEqual(2);
    expect(await stage.list(`${prefix}/`)).toEqual([]);
    expect(await source.count(table, { kind: 'all' })).toBe(TOTAL);
  });
});
