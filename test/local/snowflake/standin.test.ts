// The embedded Snowflake stand-in as the stack starts it: reached through the unmodified snowflake-sdk
// with only accessUrl changed, running real SQL on DuckDB and keeping its data across a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startSnowflake } from '../../../local/snowflake';
import { connect, destroy, exec, execError } from '../../support/snowflake-client';

const stack = inject('stack');
const s3 = {
  endpoint: stack.s3.endpoint,
  region: stack.s3.region,
  accessKeyId: stack.s3.accessKeyId,
  secretAccessKey: stack.s3.secretAccessKey,
  forcePathStyle: true,
};

describe('the embedded Snowflake stand-in', () => {
  it('serves the stack through snowflake-sdk with the endpoints the stack publishes', async () => {
    const sf = stack.snowflake;
    expect(sf.accessUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const conn = await connect({ ...sf });
    const table = `STANDIN_${Date.now()}`;
    await exec(conn, `create table ${table} (id number(38,0), name varchar)`);
    const inserted = await exec(conn, `insert into ${table} values (?, ?), (?, ?)`, [1, 'one', 2, null]);
    expect(inserted.updated).toBe(2);
    const { rows } = await exec(conn, `select id, name from ${table} where id >= ? order by id`, [1]);
    expect(rows).toEqual([
      { ID: 1, NAME: 'one' },
      { ID: 2, NAME: null },
    ]);
    await destroy(conn);
  });

  it('keeps tables and rows across a restart on the same directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-sf-restart-'));
    try {
      const first = await startSnowflake({ s3, dir });
      const conn = await connect({ ...first, accessUrl: first.accessUrl });
      await exec(conn, 'create table kept (id number)');
      await exec(conn, 'insert into kept values (7)');
      await destroy(conn);
      await first.stop();

      const second = await startSnowflake({ s3, dir });
      const again = await connect({ ...second });
      expect((await exec(again, 'select id from kept')).rows).toEqual([{ ID: 7 }]);
      await destroy(again);
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves several connections at once without mixing their sessions', async () => {
    const sf = stack.snowflake;
    const table = `PARALLEL_${Date.now()}`;
    const setup = await connect({ ...sf });
    await exec(setup, `create table ${table} (worker number, n number)`);
    const workers = await Promise.all([1, 2, 3].map(() => connect({ ...sf })));
    await Promise.all(
      workers.map(async (conn, w) => {
        for (let n = 0; n < 5; n++) await exec(conn, `insert into ${table} values (?, ?)`, [w, n]);
      }),
    );
    const { rows } = await exec(
      setup,
      `select worker, count(*) as c from ${table} group by worker order by worker`,
    );
    expect(rows).toEqual([
      { WORKER: 0, C: 5 },
      { WORKER: 1, C: 5 },
      { WORKER: 2, C: 5 },
    ]);
    await Promise.all([setup, ...workers].map(destroy));
  });

  it('refuses an unsupported statement with a clear message instead of succeeding', async () => {
    const conn = await connect({ ...stack.snowflake });
    const err = await execError(conn, 'call some_procedure()');
    expect(err.message).toContain('not supported by the local Snowflake stand-in');
    await destroy(conn);
  });
});
