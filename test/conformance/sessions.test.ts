// Sessions side by side through the unmodified snowflake-sdk, against Snowflake's documentation: no session waits
// behind another's statement, table locks and LOCK_TIMEOUT, deadlocks, the end of a session, detached transactions
// and queries (ABORT_DETACHED_QUERY), and the driver's cancel.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../lambdas/adapters/s3';
import { fileFormatOptions } from '../../lambdas/adapters/snowflake/ddl';
import { type LocalSnowflake, startSnowflake } from '../../local/snowflake';
import { type Connection, connect, destroy, exec } from '../support/snowflake-client';
import { CANCEL, PARAMETERS, TRANSACTIONS } from './docs';

/** About four seconds of DuckDB work with no table read, so no warehouse involved. */
const SLOW = 'select sum(a.range * b.range) as s from range(20000) a, range(20000) b';

let sf: LocalSnowflake;
/** Snowflake waits five minutes for a client that went away; this stand-in is told to wait half a second. */
let impatient: LocalSnowflake;
const open: Connection[] = [];

beforeAll(async () => {
  const { s3 } = inject('stack');
  [sf, impatient] = await Promise.all([
    startSnowflake({ s3 }),
    startSnowflake({ s3, detachedIdleMs: 500, detachedQueryAbortMs: 500 }),
  ]);
});

afterAll(async () => {
  await Promise.allSettled(open.map(destroy));
  await Promise.allSettled([sf.stop(), impatient.stop()]);
});

async function session(on: LocalSnowflake = sf): Promise<Connection> {
  const c = await connect({ ...on });
  open.push(c);
  return c;
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (err: { code?: string; message: string }) => err,
  );

async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sessions side by side', () => {
  it(`answers one session while another runs a long statement (${TRANSACTIONS})`, async () => {
    const [a, b] = await Promise.all([session(), session()]);
    let slowDone = false;
    const slow = exec(a, SLOW).then(() => {
      slowDone = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    const quick = await exec(b, 'select 42 as answer');
    expect(quick.rows).toEqual([{ ANSWER: 42 }]);
    expect(slowDone).toBe(false);
    await slow;
  });

  it(`answers a short statement of one session while another session's COPY loads a large file (${TRANSACTIONS})`, async () => {
    const { s3 } = inject('stack');
    const prefix = `side-by-side-${Date.now()}/`;
    const client = createS3Client({ ...s3, bucket: s3.bucket, prefix });
    // Eight copies of one file in Tally's CSV, so that the COPY takes a while without a long generation first.
    const records = Array.from({ length: 100_000 }, (_v, i) => `${i + 1},row ${i},"{""n"": ${i}}"`);
    const body = gzipSync(`${['id,v,j', ...records].join('\n')}\n`, { level: 1 });
    const files = ['1', '2', '3', '4', '5', '6', '7', '8'].map((n) => `rows-${n}.csv.gz`);
    for (const file of files) {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}${file}`, Body: body }));
    }
    client.destroy();
    const [a, b] = await Promise.all([session(), session()]);
    await exec(a, 'use role accountadmin');
    await exec(
      a,
      `create or replace storage integration side_int type = external_stage storage_provider = 'S3' enabled = true storage_allowed_locations = ('s3://${s3.bucket}/')`,
    );
    await exec(a, `create or replace file format tally_csv ${fileFormatOptions('gzip')}`);
    await exec(
      a,
      `create or replace stage side_stage url = 's3://${s3.bucket}/${prefix}' storage_integration = side_int file_format = (format_name = 'TALLY_CSV')`,
    );
    await exec(a, 'create or replace table side_rows (id number not null, v varchar, j variant)');
    await exec(b, 'create or replace table side_log (n number)');
    let copyDone = false;
    const copy = exec(
      a,
      `copy into side_rows from @side_stage files = (${files.map((f) => `'${f}'`).join(', ')})`,
    ).then((r) => {
      copyDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 500));
    // A write and a read, as the audit log's writer does while a table loads.
    const quick: string[] = [];
    for (let n = 1; n <= 3; n++) {
      await exec(b, 'insert into side_log values (?)', [n]);
      quick.push(copyDone ? 'after the COPY' : 'during the COPY');
    }
    expect((await exec(b, 'select count(*) as n from side_log')).rows).toEqual([{ N: 3 }]);
    expect(quick).toEqual(['during the COPY', 'during the COPY', 'during the COPY']);
    expect(copyDone).toBe(false);
    const loaded = await copy;
    expect(loaded.rows.map((r) => r.rows_loaded)).toEqual(files.map(() => 100_000));
  }, 120_000);

  it(`runs one session's statements in the order they came (${TRANSACTIONS})`, async () => {
    const a = await session();
    const order: string[] = [];
    await Promise.all([
      exec(a, SLOW).then(() => order.push('slow')),
      exec(a, 'select 1').then(() => order.push('quick')),
    ]);
    expect(order).toEqual(['slow', 'quick']);
  });
});

describe('locks', () => {
  it(`makes a DELETE wait for another transaction's lock, up to LOCK_TIMEOUT (${TRANSACTIONS})`, async () => {
    const [a, b] = await Promise.all([session(), session()]);
    await exec(a, 'create or replace table locked (id number)');
    await exec(a, 'insert into locked values (1), (2)');
    await exec(a, 'begin transaction');
    await exec(a, 'delete from locked where id = 1');
    await exec(b, 'alter session set lock_timeout = 1');
    const started = Date.now();
    const err = await errorOf(exec(b, 'delete from locked where id = 2'));
    expect(err).toMatchObject({ code: '000625' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // "INSERT operations are not blocked."
    await exec(b, 'insert into locked values (3)');
    const waiting = exec(b, 'alter session set lock_timeout = 60').then(() =>
      exec(b, 'delete from locked where id = 2'),
    );
    await new Promise((r) => setTimeout(r, 300));
    await exec(a, 'commit');
    await waiting;
    expect((await exec(a, 'select id from locked order by id')).rows).toEqual([{ ID: 3 }]);
  });

  it(`lets a statement that waited for a lock change the rows the holder committed: READ COMMITTED (${TRANSACTIONS}#isolation-level)`, async () => {
    const [a, b] = await Promise.all([session(), session()]);
    await exec(a, 'create or replace table lease (name varchar, holder varchar)');
    await exec(a, "insert into lease values ('t', 'nobody')");
    // A MERGE in autocommit waits for the holder, then works on its committed row.
    await exec(a, 'begin transaction');
    await exec(a, "update lease set holder = 'a'");
    const merging = exec(
      b,
      "merge into lease l using (select 't' as name) s on l.name = s.name when matched then update set holder = l.holder || '+b'",
    );
    await new Promise((r) => setTimeout(r, 300));
    await exec(a, 'commit');
    await merging;
    // So does an UPDATE inside a transaction that began before the holder committed.
    await exec(b, 'begin transaction');
    await exec(b, "insert into lease values ('u', 'b')");
    await exec(b, "update lease set holder = holder || '+b2' where name = 'u'");
    await exec(a, 'begin transaction');
    const updating = exec(a, "update lease set holder = holder || '+a2'");
    await new Promise((r) => setTimeout(r, 300));
    await exec(b, 'commit');
    await updating;
    await exec(a, 'commit');
    expect((await exec(a, 'select name, holder from lease order by name')).rows).toEqual([
      { NAME: 't', HOLDER: 'a+b+a2' },
      { NAME: 'u', HOLDER: 'b+b2+a2' },
    ]);
  });

  it(`picks the most recent statement of a deadlock as its victim (${TRANSACTIONS})`, async () => {
    const [a, b] = await Promise.all([session(), session()]);
    await exec(a, 'create or replace table dl1 (id number)');
    await exec(a, 'create or replace table dl2 (id number)');
    await exec(a, 'begin transaction');
    await exec(b, 'begin transaction');
    await exec(a, 'delete from dl1');
    await exec(b, 'delete from dl2');
    const aWaits = exec(a, 'delete from dl2');
    await new Promise((r) => setTimeout(r, 300));
    expect(await errorOf(exec(b, 'delete from dl1'))).toMatchObject({ code: '000625' });
    // "The statement is rolled back, but the transaction itself remains active".
    await exec(b, 'rollback');
    await aWaits;
    await exec(a, 'commit');
  });
});

describe('the end of a session', () => {
  it(`rolls back an open transaction when the session ends (${TRANSACTIONS})`, async () => {
    const [a, b] = await Promise.all([session(), session()]);
    await exec(a, 'create or replace table ended (id number)');
    await exec(a, 'begin');
    await exec(a, 'insert into ended values (1)');
    await destroy(a);
    await waitFor(async () => (await exec(b, 'select count(*) as n from ended')).rows[0]?.N === 0);
  });

  it(`aborts a detached transaction that blocks another once it is idle (${TRANSACTIONS})`, async () => {
    const [a, b] = await Promise.all([session(impatient), session(impatient)]);
    await exec(a, 'create or replace table detached (id number)');
    await exec(a, 'insert into detached values (1), (2)');
    await exec(a, 'begin');
    await exec(a, 'delete from detached where id = 1');
    // A's client goes silent, holding the lock: no request, no heartbeat, no session delete.
    await exec(b, 'delete from detached where id = 2');
    expect((await exec(b, 'select id from detached')).rows).toEqual([{ ID: 1 }]);
  });

  it(`aborts a query whose client went away under ABORT_DETACHED_QUERY = TRUE (${PARAMETERS})`, async () => {
    const [a, b] = await Promise.all([session(impatient), session(impatient)]);
    await exec(a, 'alter session set abort_detached_query = true');
    const { queryId } = await exec(a, SLOW.replace(/20000/g, '60000'), undefined, { asyncExec: true });
    await destroy(a);
    await waitFor(async () => (await b.getQueryStatus(queryId)) === 'ABORTED');
  });

  it(`completes a query whose client went away when ABORT_DETACHED_QUERY is FALSE, its default (${PARAMETERS})`, async () => {
    const [a, b] = await Promise.all([session(impatient), session(impatient)]);
    const { queryId } = await exec(a, SLOW, undefined, { asyncExec: true });
    await destroy(a);
    await waitFor(async () => (await b.getQueryStatus(queryId)) === 'SUCCESS', 60_000);
  });
});

describe("the driver's cancel", () => {
  it(`stops a running statement, which fails as canceled (${CANCEL})`, async () => {
    const a = await session();
    const failed = new Promise<{ code?: string }>((resolve) => {
      const statement = a.execute({
        sqlText: SLOW.replace(/20000/g, '60000'),
        complete: (err) => resolve((err ?? {}) as { code?: string }),
      });
      setTimeout(() => statement.cancel(() => undefined), 500);
    });
    expect(await failed).toMatchObject({ code: expect.stringMatching(/^000604$|^000605$/) });
    expect((await exec(a, 'select 1 as one')).rows).toEqual([{ ONE: 1 }]);
  });
});
