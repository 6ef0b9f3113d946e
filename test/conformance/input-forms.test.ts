// The text forms each data type accepts when loaded, and the ranges of the types themselves, against Snowflake's
// documentation. Values are compared in the wire encoding the driver receives (days, epoch seconds, decimal text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY, DATETIME, DATETIME_FORMATS, LOGICAL, NUMERIC, PARSE_JSON, TEXT } from './docs';
import { copyFile, eachCase, type Harness, startHarness } from './harness';

/** A DATE as the driver receives it: days since 1970-01-01. */
const days = (iso: string) => String(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
/** A timestamp as the driver receives it: epoch seconds with nine fraction digits. */
const seconds = (iso: string) => (Date.parse(iso) / 1000).toFixed(9);

interface Case {
  readonly behaviour: string;
  readonly doc: string;
  readonly type: string;
  readonly text: string;
  readonly options?: string;
  readonly value?: string | null;
  readonly error?: string;
}

const cases: readonly Case[] = [
  {
    behaviour: 'DATE reads YYYY-MM-DD',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '2013-04-28',
    value: days('2013-04-28'),
  },
  {
    behaviour: 'DATE reads DD-MON-YYYY',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '17-DEC-1980',
    value: days('1980-12-17'),
  },
  {
    behaviour: 'DATE reads MM/DD/YYYY',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '12/17/1980',
    value: days('1980-12-17'),
  },
  {
    behaviour: 'slashes imply MM/DD/YYYY: 2019/01/02 is not a date',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '2019/01/02',
    error: '100040',
  },
  {
    behaviour: 'every accepted TIMESTAMP value is a DATE, its time dropped',
    doc: DATETIME,
    type: 'date',
    text: '2024-01-01 23:10:00',
    value: days('2024-01-01'),
  },
  {
    behaviour: 'infinity is no DATE form',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: 'infinity',
    error: '100040',
  },
  {
    behaviour: 'a BC suffix is no DATE form',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '2024-01-01 BC',
    error: '100040',
  },
  {
    behaviour: 'YYYY takes up to four digits: year 10000 is refused',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '10000-01-01',
    error: '100040',
  },
  {
    behaviour: 'a day past the month’s length is refused',
    doc: DATETIME_FORMATS,
    type: 'date',
    text: '2023-02-29',
    error: '100040',
  },
  {
    behaviour: 'TIME goes up to 23:59:59.999999999',
    doc: DATETIME,
    type: 'time',
    text: '23:59:59.999999',
    value: '86399.999999000',
  },
  {
    behaviour: 'TIME 24:00:00 is out of range',
    doc: DATETIME,
    type: 'time',
    text: '24:00:00',
    error: '100108',
  },
  {
    behaviour: 'TIME reads HH12:MI AM',
    doc: DATETIME_FORMATS,
    type: 'time',
    text: '04:01 PM',
    value: '57660.000000000',
  },
  {
    behaviour: 'infinity is no timestamp form',
    doc: DATETIME_FORMATS,
    type: 'timestamp_ntz',
    text: 'infinity',
    error: '100035',
  },
  {
    behaviour: 'TIMESTAMP reads YYYY-MM-DD"T"HH24:MI:SS.FF',
    doc: DATETIME_FORMATS,
    type: 'timestamp_ntz',
    text: '2013-04-28T20:57:01.123456',
    value: `${seconds('2013-04-28T20:57:01Z').slice(0, -10)}.123456000`,
  },
  {
    behaviour: 'TIMESTAMP_NTZ keeps the wallclock time of a value written with an offset',
    doc: DATETIME,
    type: 'timestamp_ntz',
    text: '2013-04-28 20:57:01 +07:00',
    value: seconds('2013-04-28T20:57:01Z'),
  },
  {
    behaviour: 'TIMESTAMP_TZ reads an hour-only offset (YYYY-MM-DD HH24:MI:SSTZH)',
    doc: DATETIME_FORMATS,
    type: 'timestamp_tz',
    text: '2024-01-01 10:00:00+05',
    value: `${seconds('2024-01-01T05:00:00Z')} 1440`,
  },
  {
    behaviour: 'TIMESTAMP reads the RFC form DY, DD MON YYYY HH24:MI:SS TZHTZM',
    doc: DATETIME_FORMATS,
    type: 'timestamp_ltz',
    text: 'Thu, 21 Dec 2000 16:01:07 +0200',
    value: seconds('2000-12-21T14:01:07Z'),
  },
  {
    behaviour:
      'more fraction digits than the declared precision keeps are refused: rounding is not documented',
    doc: DATETIME,
    type: 'timestamp_ntz(0)',
    text: '2024-01-01 10:00:00.5',
    error: '000002',
  },
  {
    behaviour: 'the deprecated integer form of a timestamp is refused rather than guessed',
    doc: DATETIME_FORMATS,
    type: 'timestamp_ntz',
    text: '1487654321',
    error: '000002',
  },
  {
    behaviour: 'NUMBER(p,s) takes a decimal within its scale',
    doc: NUMERIC,
    type: 'number(10,2)',
    text: '12.34',
    value: '12.34',
  },
  {
    behaviour: 'numeric constants take a sign',
    doc: NUMERIC,
    type: 'number(10,2)',
    text: '+1.34',
    value: '1.34',
  },
  {
    behaviour: 'numeric constants take an exponent',
    doc: NUMERIC,
    type: 'number(10,0)',
    text: '1.5e2',
    value: '150',
  },
  {
    behaviour: 'more integer digits than precision minus scale cannot be loaded',
    doc: NUMERIC,
    type: 'number(2,0)',
    text: '123',
    error: '100039',
  },
  { behaviour: 'NUMBER has no NaN', doc: NUMERIC, type: 'number(10,2)', text: 'NaN', error: '100038' },
  {
    behaviour: 'digits past NUMBER’s scale are refused: whether they round or truncate is not documented',
    doc: NUMERIC,
    type: 'number(10,2)',
    text: '1.234',
    error: '000002',
  },
  { behaviour: "FLOAT reads 'NaN'", doc: NUMERIC, type: 'float', text: 'NaN', value: 'NaN' },
  { behaviour: "FLOAT reads 'inf'", doc: NUMERIC, type: 'float', text: 'inf', value: 'inf' },
  {
    behaviour: "FLOAT's special values are case-insensitive",
    doc: NUMERIC,
    type: 'float',
    text: '-INF',
    value: '-inf',
  },
  {
    behaviour: "FLOAT refuses 'Infinity', a spelling the documentation does not list",
    doc: NUMERIC,
    type: 'float',
    text: 'Infinity',
    error: '000002',
  },
  {
    behaviour: 'FLOAT reads numeric constants with exponents',
    doc: NUMERIC,
    type: 'float',
    text: '15e-03',
    value: '0.015',
  },
  {
    behaviour: 'a FLOAT beyond the double range is inf',
    doc: NUMERIC,
    type: 'float',
    text: '1e400',
    value: 'inf',
  },
  { behaviour: 'BOOLEAN reads yes as TRUE', doc: LOGICAL, type: 'boolean', text: 'yes', value: 'TRUE' },
  { behaviour: 'BOOLEAN refuses other words', doc: LOGICAL, type: 'boolean', text: 'maybe', error: '100037' },
  {
    behaviour:
      'a string longer than the declared VARCHAR length is an error (ENFORCE_LENGTH defaults to TRUE)',
    doc: COPY,
    type: 'varchar(3)',
    text: 'abcd',
    error: '100074',
  },
  {
    behaviour: 'TRUNCATECOLUMNS = TRUE cuts a string to the column length',
    doc: COPY,
    type: 'varchar(3)',
    text: 'abcd',
    options: 'truncatecolumns = true',
    value: 'abc',
  },
  {
    behaviour: 'VARCHAR lengths count characters, not bytes',
    doc: TEXT,
    type: 'varchar(3)',
    text: 'äöü',
    value: 'äöü',
  },
  {
    behaviour: 'a VARIANT keeps a decimal as NUMBER, written without trailing zeros',
    doc: PARSE_JSON,
    type: 'variant',
    text: '{"n": 2.50}',
    value: '{"n":2.5}',
  },
  {
    behaviour: 'a VARIANT keeps a number in scientific notation as DOUBLE',
    doc: PARSE_JSON,
    type: 'variant',
    text: '1.912e2',
    value: '1.912000000000000e+02',
  },
  {
    behaviour: 'a VARIANT keeps a number of more than 38 digits as DOUBLE',
    doc: PARSE_JSON,
    type: 'variant',
    text: '123456789012345678901234567890123456789012',
    value: '1.234567890123457e+41',
  },
  {
    behaviour: 'a VARIANT refuses duplicate keys',
    doc: PARSE_JSON,
    type: 'variant',
    text: '{"a": 1, "a": 2}',
    error: '100069',
  },
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

describe('input forms in COPY', () => {
  eachCase(
    cases,
    (c) => `${c.behaviour} (${c.doc})`,
    async (c) => {
      // Enclosed, so that commas and blanks stay in the field, and no escape character to read.
      const load = copyFile(h, {
        columns: `v ${c.type}`,
        format: "type = csv field_optionally_enclosed_by = '\"' escape_unenclosed_field = none",
        file: `"${c.text.replaceAll('"', '""')}"\n`,
        options: c.options,
      });
      if (c.error) await expect(load).rejects.toMatchObject({ code: c.error });
      else expect(await load).toEqual([[c.value]]);
    },
  );

  it(`stores JSON null as a VARIANT null, which is not SQL NULL (${PARSE_JSON})`, async () => {
    await h.run('create table jsonnull (v variant)');
    await h.put('jsonnull/1.csv', 'null\n');
    await h.run('copy into jsonnull from @st/jsonnull/');
    expect((await h.run('select v is null as missing, v from jsonnull')).rows).toEqual([['FALSE', 'null']]);
  });
});

describe('type ranges', () => {
  eachCase(
    [
      { behaviour: 'NUMBER takes precision 38 and scale 37', doc: NUMERIC, sql: 'number(38,37)', ok: true },
      {
        behaviour: 'NUMBER refuses scale 38 ("The maximum scale ... is 37")',
        doc: NUMERIC,
        sql: 'number(38,38)',
        ok: false,
      },
      { behaviour: 'NUMBER refuses precision 39', doc: NUMERIC, sql: 'number(39,0)', ok: false },
      { behaviour: 'VARCHAR takes its maximum, 134217728', doc: TEXT, sql: 'varchar(134217728)', ok: true },
      { behaviour: 'VARCHAR refuses more than its maximum', doc: TEXT, sql: 'varchar(134217729)', ok: false },
      { behaviour: 'TIME refuses precision 10: it takes 0 to 9', doc: DATETIME, sql: 'time(10)', ok: false },
    ],
    (c) => `${c.behaviour} (${c.doc})`,
    async ({ sql, ok }) => {
      const create = h.run(`create or replace table ranged (v ${sql})`);
      if (ok) await create;
      else await expect(create).rejects.toMatchObject({ code: '001003' });
    },
  );

  it(`describes VARCHAR without a length as VARCHAR(16777216) and keeps declared precisions (${TEXT})`, async () => {
    await h.run('create or replace table described (v varchar, t timestamp_tz(6), c char)');
    const d = await h.run('describe table described');
    expect(d.rows.map((r) => r[1])).toEqual(['VARCHAR(16777216)', 'TIMESTAMP_TZ(6)', 'VARCHAR(1)']);
  });
});
