// The PostgreSQL connection lost at the moments an export is not reading its COPY stream: while the
// parts an earlier attempt left are being deleted, before the first chunk is read. pg-copy-streams
// reports a lost connection by emitting 'error' on the stream rather than destroying it, so unless the
// export listens from the start, the error is an uncaught exception and the export waits for data forever.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PostgresSource } from '../../lambdas/adapters/postgres';
import { S3Stage } from '../../lambdas/adapters/s3';
import type { ResolvedTable } from '../../lambdas/domain/table';
import type { Stage } from '../../lambdas/ports';
import { TcpProxy } from '../support/faults/tcp-proxy';
import { freshDatabase, onDatabase, pgConfig, s3Config } from '../support/postgres';

let proxy: TcpProxy;
let source: PostgresSource;
let stage: S3Stage;
let table: ResolvedTable;

beforeAll(async () => {
  const url = await freshDatabase('export_connection_lost');
  await onDatabase(url, (c) =>
    c.query(`CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO items (id, name) SELECT n, repeat('x', 200) FROM generate_series(1, 5000) AS n`),
  );
  const direct = new URL(url);
  proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port) });
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  source = new PostgresSource(pgConfig({ url: proxied.toString() }));
  stage = new S3Stage(s3Config());
  table = await source.resolve({
    schema: 'public',
    name: 'items',
    primaryKey: ['id'],
    cursorColumn: 'updated_at',
  });
  expect(inject('stack').postgres.url).not.toContain(String(proxy.port));
});

afterAll(async () => {
  await source?.close();
  await proxy?.stop();
});

/** The stage, with the connection to PostgreSQL reset (and the reset seen) when the export first lists. */
function cuttingOnList(): Stage {
  let cut = false;
  return {
    bucket: stage.bucket,
    upload: (key, body, contentType) => stage.upload(key, body, contentType),
    putJson: (key, value) => stage.putJson(key, value),
    keepJson: (key, value) => stage.keepJson(key, value),
    getJson: (key) => stage.getJson(key),
    getJsonTagged: (key) => stage.getJsonTagged(key),
    putJsonIf: (key, value, expected) => stage.putJsonIf(key, value, expected),
    delete: (keys) => stage.delete(keys),
    async list(prefix) {
      if (!cut) {
        cut = true;
        proxy.killAll();
        await sleep(300);
      }
      return stage.list(prefix);
    },
  };
}

describe('the PostgreSQL connection lost before the export reads its COPY stream', () => {
  it('fails the export as SourceUnavailableError, with no uncaught error, leaves no part, and the next export succeeds', async () => {
    const prefix = `export-connection-lost/${Date.now()}`;
    const brokenBefore = proxy.stats.broken;
    await expect(
      source.export(table, { kind: 'all' }, cuttingOnList(), { keyPrefix: prefix }),
    ).rejects.toMatchObject({
      name: 'SourceUnavailableError',
    });
    expect(proxy.stats.broken).toBeGreaterThan(brokenBefore);
    expect(await stage.list(prefix)).toEqual([]);

    const again = await source.export(table, { kind: 'all' }, stage, { keyPrefix: prefix });
    expect(again.rows).toBe(5000);
    expect(again.sourceCount).toBe(5000);
  });
});
