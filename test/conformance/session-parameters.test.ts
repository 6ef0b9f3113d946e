// Session and account parameters against Snowflake's documentation: ALTER SESSION and ALTER ACCOUNT refuse what
// is not a parameter, and the parameters Tally sets change what statements do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALTER_ACCOUNT, ALTER_SESSION, DATETIME, DATETIME_FORMATS, PARAMETERS } from './docs';
import { copyFile, eachCase, type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

const days = (iso: string) => String(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
const seconds = (iso: string) => (Date.parse(iso) / 1000).toFixed(9);

describe('ALTER SESSION', () => {
  eachCase(
    [
      {
        behaviour: 'a name that is no parameter',
        sql: 'alter session set no_such_parameter = 1',
        code: '001006',
      },
      {
        behaviour: 'a value of the wrong type',
        sql: "alter session set statement_timeout_in_seconds = 'soon'",
        code: '001006',
      },
      {
        behaviour: 'a number out of the parameter’s range',
        sql: 'alter session set statement_timeout_in_seconds = 604801',
        code: '001006',
      },
      {
        behaviour: 'a time zone that does not exist',
        sql: "alter session set timezone = 'Mars/Olympus'",
        code: '001006',
      },
      {
        behaviour: 'a documented parameter the stand-in does not model, set away from its default',
        sql: 'alter session set two_digit_century_start = 1950',
        code: '000002',
      },
      {
        behaviour: 'UNSET of a name that is no parameter',
        sql: 'alter session unset no_such_parameter',
        code: '001006',
      },
    ],
    (c) => `refuses ${c.behaviour} (${ALTER_SESSION}, ${PARAMETERS})`,
    async ({ sql, code }) => {
      await expect(h.run(sql, h.session())).rejects.toMatchObject({ code });
    },
  );

  it(`sets several parameters separated by commas, as Tally does (${ALTER_SESSION})`, async () => {
    const s = h.session();
    await h.run(
      "alter session set statement_timeout_in_seconds = 780, timezone = 'UTC', abort_detached_query = true, lock_timeout = 300, quoted_identifiers_ignore_case = false, date_input_format = 'AUTO'",
      s,
    );
    expect(s.parameters).toMatchObject({
      STATEMENT_TIMEOUT_IN_SECONDS: 780,
      ABORT_DETACHED_QUERY: true,
      LOCK_TIMEOUT: 300,
    });
  });
});

describe('parameters that take effect', () => {
  it(`cancels a statement running past STATEMENT_TIMEOUT_IN_SECONDS with 000630 (${PARAMETERS})`, async () => {
    const s = h.session();
    await h.run('alter session set statement_timeout_in_seconds = 1', s);
    const started = Date.now();
    await expect(
      h.run('select sum(a.range * b.range) from range(40000) a, range(40000) b', s),
    ).rejects.toMatchObject({
      code: '000630',
      sqlState: '57014',
      message: 'Statement reached its statement or warehouse timeout of 1 second(s) and was canceled.',
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await h.run('select 1', s)).rows).toEqual([['1']]);
  });

  it(`reads a TIMESTAMP_TZ without an offset in the session's TIMEZONE (${DATETIME})`, async () => {
    const s = h.session();
    await h.run("alter session set timezone = 'America/New_York'", s);
    const rows = await copyFile(
      h,
      { columns: 'tz timestamp_tz, ltz timestamp_ltz', file: '2024-01-01 12:00:00,2024-07-01 12:00:00\n' },
      s,
    );
    expect(rows).toEqual([[`${seconds('2024-01-01T17:00:00Z')} 1440`, seconds('2024-07-01T16:00:00Z')]]);
  });

  it(`reads dates with the session's DATE_INPUT_FORMAT, and only with it (${DATETIME_FORMATS})`, async () => {
    const s = h.session();
    await h.run("alter session set date_input_format = 'DD/MM/YYYY'", s);
    expect(await copyFile(h, { columns: 'd date', file: '31/12/2024\n' }, s)).toEqual([[days('2024-12-31')]]);
    await expect(copyFile(h, { columns: 'd date', file: '2024-12-31\n' }, s)).rejects.toMatchObject({
      code: '100040',
    });
  });

  it(`lets the file format's DATE_FORMAT override the session's DATE_INPUT_FORMAT (${DATETIME_FORMATS})`, async () => {
    const s = h.session();
    await h.run("alter session set date_input_format = 'DD/MM/YYYY'", s);
    const rows = await copyFile(
      h,
      { columns: 'd date', format: "type = csv date_format = 'YYYY.MM.DD'", file: '2024.12.31\n' },
      s,
    );
    expect(rows).toEqual([[days('2024-12-31')]]);
  });

  it(`reads times with the session's TIME_INPUT_FORMAT (${DATETIME_FORMATS})`, async () => {
    const s = h.session();
    await h.run("alter session set time_input_format = 'HH24MI'", s);
    expect(await copyFile(h, { columns: 't time', file: '2359\n' }, s)).toEqual([['86340.000000000']]);
  });

  it(`applies an account's TIMESTAMP_INPUT_FORMAT to COPY unless the session says AUTO (${ALTER_ACCOUNT}, ${DATETIME_FORMATS})`, async () => {
    const admin = h.session('ACCOUNTADMIN');
    await h.run("alter account set timestamp_input_format = 'MM/DD/YYYY HH24:MI'", admin);
    try {
      const s = h.session();
      await expect(
        copyFile(h, { columns: 'ts timestamp_ntz', file: '2024-01-01 10:00:00\n' }, s),
      ).rejects.toMatchObject({
        code: '100035',
      });
      expect(await copyFile(h, { columns: 'ts timestamp_ntz', file: '01/02/2024 10:30\n' }, s)).toEqual([
        [seconds('2024-01-02T10:30:00Z')],
      ]);
      await h.run("alter session set timestamp_input_format = 'AUTO'", s);
      expect(await copyFile(h, { columns: 'ts timestamp_ntz', file: '2024-01-01 10:00:00\n' }, s)).toEqual([
        [seconds('2024-01-01T10:00:00Z')],
      ]);
    } finally {
      await h.run('alter account unset timestamp_input_format', admin);
    }
  });

  it(`lets only account administrators set account parameters (${ALTER_ACCOUNT})`, async () => {
    await expect(h.run("alter account set timezone = 'UTC'", h.session('SYSADMIN'))).rejects.toMatchObject({
      code: '003001',
    });
  });

  it(`resolves quoted identifiers upper-case under QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE (${PARAMETERS})`, async () => {
    const s = h.session();
    await h.run('alter session set quoted_identifiers_ignore_case = true', s);
    await h.run('create table "folded" ("Id" number)', s);
    await h.run('alter session unset quoted_identifiers_ignore_case', s);
    expect((await h.run('select id from folded', s)).rows).toEqual([]);
    await expect(h.run('select "Id" from "folded"', s)).rejects.toMatchObject({ code: '002003' });
  });
});
