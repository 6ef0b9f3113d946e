// The functions value reconciliation's checksums use, as Snowflake documents them: MD5's hex digest,
// TO_NUMBER with a hexadecimal format model, TO_VARCHAR without a format, DATEDIFF by day and microsecond,
// DATE_PART's EPOCH_MICROSECOND and TO_JSON; and the forms the stand-in does not implement, refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATE_PART, DATEDIFF, FORMAT_MODELS, MD5, TO_CHAR, TO_DECIMAL, TO_JSON } from './docs';
import { type Harness, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

const one = async (sql: string) => (await h.run(sql)).rows[0]?.map((v) => (v === null ? null : String(v)));

describe('MD5', () => {
  it(`returns the 32-character hex digest of the UTF-8 text (${MD5})`, async () => {
    expect(await one("select md5('Snowflake'), md5(''), md5('é')")).toEqual([
      'edf1439075a83a447fb8b630ddc9c8de',
      'd41d8cd98f00b204e9800998ecf8427e',
      await digestOf('é'),
    ]);
  });
});

async function digestOf(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('md5').update(text, 'utf8').digest('hex');
}

describe('TO_NUMBER with a hexadecimal format model', () => {
  it(`reads hexadecimal digits of either case as an unsigned number (${TO_DECIMAL}; ${FORMAT_MODELS})`, async () => {
    expect(
      await one(
        "select to_number('ff', 'XX'), to_number('FFFFFFFFFFFFFFF', 'XXXXXXXXXXXXXXX'), to_decimal('0a', 'xx')",
      ),
    ).toEqual(['255', '1152921504606846975', '10']);
  });

  it(`refuses text the model does not match (${TO_DECIMAL})`, async () => {
    await expect(h.run("select to_number('fff', 'XX')")).rejects.toThrow(/is not recognized/);
    await expect(h.run("select to_number('fg', 'XX')")).rejects.toThrow(/is not recognized/);
  });

  it('refuses other format models and more than 15 hexadecimal digits as not implemented', async () => {
    await expect(h.run("select to_number('12.5', '99.9')")).rejects.toMatchObject({ code: '000002' });
    await expect(h.run(`select to_number('ff', '${'X'.repeat(16)}')`)).rejects.toMatchObject({
      code: '000002',
    });
  });
});

describe('TO_VARCHAR', () => {
  it(`writes an integer NUMBER as its digits, without a format (${TO_CHAR})`, async () => {
    expect(
      await one(
        'select to_varchar(cast(-12 as number(38,0))), to_char(cast(99999999999999999999999999999999999999 as number(38,0)))',
      ),
    ).toEqual(['-12', '99999999999999999999999999999999999999']);
  });

  it('refuses a format model as not implemented', async () => {
    await expect(h.run("select to_varchar(1.5, '9.99')")).rejects.toMatchObject({ code: '000002' });
  });
});

describe('DATEDIFF', () => {
  it(`counts the day boundaries from the second argument to the third, negative backwards (${DATEDIFF})`, async () => {
    expect(
      await one(
        "select datediff(day, '1970-01-01'::date, '1969-12-31'::date), datediff(days, '1970-01-01'::date, '0001-01-01'::date)",
      ),
    ).toEqual(['-1', '-719162']);
  });

  it(`counts microseconds between times (${DATEDIFF})`, async () => {
    expect(await one("select datediff(microsecond, '00:00:00'::time, '23:59:59.999999'::time)")).toEqual([
      '86399999999',
    ]);
  });

  it('refuses parts other than DAY and MICROSECOND as not implemented', async () => {
    await expect(
      h.run("select datediff(year, '2020-01-01'::date, '2021-01-01'::date)"),
    ).rejects.toMatchObject({ code: '000002' });
  });
});

describe('DATE_PART', () => {
  it(`gives EPOCH_MICROSECOND of a TIMESTAMP_NTZ read as UTC and of a TIMESTAMP_TZ's instant (${DATE_PART})`, async () => {
    expect(
      await one(
        "select date_part(epoch_microsecond, '1970-01-01 00:00:01.000001'::timestamp_ntz), date_part(epoch_microsecond, '0001-01-01 00:00:00'::timestamp_ntz), date_part(epoch_microsecond, '2024-01-15 08:30:00.123456'::timestamp_tz)",
      ),
    ).toEqual(['1000001', '-62135596800000000', '1705307400123456']);
  });

  it('refuses other parts as not implemented', async () => {
    await expect(h.run("select date_part(year, '2020-01-01'::date)")).rejects.toMatchObject({
      code: '000002',
    });
  });
});

describe('TO_JSON', () => {
  it(`writes an ARRAY as compact JSON, NULL elements as null (${TO_JSON})`, async () => {
    expect(await one(`select to_json(parse_json('[1, null, "a,b",  -3]')), to_json(null)`)).toEqual([
      '[1,null,"a,b",-3]',
      null,
    ]);
    // Braces inside strings are not objects.
    expect(await one(`select to_json(parse_json('["{x}", "}", ""]'))`)).toEqual(['["{x}","}",""]']);
    // Nor after an escaped quote: the SQL literal's \\ is one backslash of the JSON text.
    expect(await one(`select to_json(parse_json('["a\\\\"{", 1]'))`)).toEqual(['["a\\"{",1]']);
  });

  it(`refuses a value holding an OBJECT, whose member order the page calls not predictable (${TO_JSON})`, async () => {
    for (const json of ['{"b": 1, "a": 2}', '[1, {"a": 1}]']) {
      await expect(one(`select to_json(parse_json('${json}'))`)).rejects.toMatchObject({
        code: '000002',
        sqlState: '0A000',
        message: expect.stringMatching(
          /^not supported by the local Snowflake stand-in: TO_JSON of a value holding an OBJECT/,
        ),
      });
    }
  });
});
