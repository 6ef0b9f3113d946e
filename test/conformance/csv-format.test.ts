// The CSV format type options of COPY INTO and CREATE FILE FORMAT, and COPY's result, against Snowflake's
// documentation: one case per documented behaviour, each naming the page it follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY, FILE_FORMAT, UNLOAD } from './docs';
import { byName, copyFile, eachCase, type Harness, startHarness } from './harness';

interface Case {
  readonly behaviour: string;
  readonly doc: string;
  readonly columns?: string;
  readonly format: string;
  readonly file: string | Buffer;
  readonly options?: string;
  readonly rows?: (string | null)[][];
  readonly error?: { readonly code: string; readonly message?: RegExp };
}

const cases: readonly Case[] = [
  {
    behaviour: 'ESCAPE_UNENCLOSED_FIELD defaults to a backslash, which makes the field delimiter data',
    doc: COPY,
    format: 'type = csv',
    file: '1,a\\,b\n',
    rows: [['1', 'a,b']],
  },
  {
    behaviour: 'the default escape character escapes instances of itself',
    doc: COPY,
    format: 'type = csv',
    file: '1,C:\\\\dir\n',
    rows: [['1', 'C:\\dir']],
  },
  {
    behaviour: 'a row ending in the default escape character is joined with the next row',
    doc: COPY,
    format: 'type = csv',
    file: '1,ends\\\nnext\n',
    rows: [['1', 'ends\nnext']],
  },
  {
    behaviour:
      'the default escape character before any other character is refused, the documentation being silent',
    doc: COPY,
    format: 'type = csv',
    file: '1,a\\tb\n',
    error: { code: '000002', message: /ESCAPE_UNENCLOSED_FIELD\) followed by 't'/ },
  },
  {
    behaviour: 'ESCAPE_UNENCLOSED_FIELD = NONE keeps backslashes as data, a trailing one too',
    doc: COPY,
    format: 'type = csv escape_unenclosed_field = none',
    file: '1,a\\tb\n2,ends\\\n',
    rows: [
      ['1', 'a\\tb'],
      ['2', 'ends\\'],
    ],
  },
  {
    behaviour: 'ESCAPE_UNENCLOSED_FIELD applies to unenclosed fields only: a backslash inside quotes is data',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"'",
    file: '1,"C:\\dir\\"\n',
    rows: [['1', 'C:\\dir\\']],
  },
  {
    behaviour: 'ESCAPE (for enclosed fields) makes the enclosing character data',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"' escape = '\\\\'",
    file: '1,"say \\"hi\\""\n',
    rows: [['1', 'say "hi"']],
  },
  {
    behaviour:
      'FIELD_OPTIONALLY_ENCLOSED_BY encloses delimiters, and a doubled enclosing character stands for one',
    doc: UNLOAD,
    format: "type = csv field_optionally_enclosed_by = '\"'",
    file: '1,"a,b ""c"""\n',
    rows: [['1', 'a,b "c"']],
  },
  {
    behaviour: 'FIELD_OPTIONALLY_ENCLOSED_BY defaults to NONE: quotes are data',
    doc: COPY,
    format: 'type = csv',
    file: '1,"a"\n',
    rows: [['1', '"a"']],
  },
  {
    behaviour: 'without TRIM_SPACE a space before the quote makes the quotes part of the field',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"'",
    file: '1, "a"\n',
    rows: [['1', ' "a"']],
  },
  {
    behaviour: 'TRIM_SPACE = TRUE removes the spaces around an enclosed field and keeps those inside',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"' trim_space = true",
    file: '1, " a " \n',
    rows: [['1', ' a ']],
  },
  {
    behaviour:
      'EMPTY_FIELD_AS_NULL (default TRUE) makes two successive delimiters NULL, and quotes keep an empty string',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"'",
    columns: 'id number, v varchar, w varchar',
    file: '1,,""\n',
    rows: [['1', null, '']],
  },
  {
    behaviour: 'EMPTY_FIELD_AS_NULL = FALSE inserts an empty string into a string column',
    doc: COPY,
    format: 'type = csv empty_field_as_null = false null_if = ()',
    file: '1,\n',
    rows: [['1', '']],
  },
  {
    behaviour: 'EMPTY_FIELD_AS_NULL = FALSE makes an empty field an error for other column types',
    doc: COPY,
    format: 'type = csv empty_field_as_null = false null_if = ()',
    columns: 'id number, n number',
    file: '1,\n',
    error: { code: '100038' },
  },
  {
    behaviour: 'NULL_IF defaults to \\N, read with the default escape character',
    doc: COPY,
    format: 'type = csv',
    file: '1,\\N\n',
    rows: [['1', null]],
  },
  {
    behaviour: 'NULL_IF = () is an empty list: nothing but empty fields is NULL',
    doc: COPY,
    format: 'type = csv escape_unenclosed_field = none null_if = ()',
    file: '1,\\N\n2,NULL\n',
    rows: [
      ['1', '\\N'],
      ['2', 'NULL'],
    ],
  },
  {
    behaviour: 'NULL_IF lists the strings that load as NULL, and may include the empty string',
    doc: COPY,
    format: "type = csv null_if = ('NULL', 'nil', '') empty_field_as_null = false",
    file: '1,NULL\n2,nil\n3,\n',
    rows: [
      ['1', null],
      ['2', null],
      ['3', null],
    ],
  },
  {
    behaviour: 'NULL_IF on an enclosed field is refused: whether it applies inside quotes is not documented',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"' null_if = ('NULL')",
    file: '1,"NULL"\n',
    error: { code: '000002', message: /NULL_IF matching the enclosed field/ },
  },
  {
    behaviour: 'SKIP_HEADER skips lines at the start of the file',
    doc: COPY,
    format: 'type = csv skip_header = 2',
    file: 'a header\nanother\n1,x\n',
    rows: [['1', 'x']],
  },
  {
    behaviour:
      'SKIP_HEADER counts line breaks, not records: a header with an enclosed new line leaves its tail as data',
    doc: COPY,
    format: "type = csv skip_header = 1 field_optionally_enclosed_by = '\"'",
    file: 'id,"two\nlines"\n1,x\n',
    error: { code: '100080' },
  },
  {
    behaviour: 'an enclosed field may hold record delimiters (MULTI_LINE defaults to TRUE), \\r\\n included',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"'",
    file: '1,"line 1\r\nline 2"\r\n2,x\r\n',
    rows: [
      ['1', 'line 1\r\nline 2'],
      ['2', 'x'],
    ],
  },
  {
    behaviour: 'MULTI_LINE = FALSE makes a record delimiter inside an enclosed field an error',
    doc: COPY,
    format: "type = csv field_optionally_enclosed_by = '\"' multi_line = false",
    file: '1,"a\nb"\n',
    error: { code: '100016' },
  },
  {
    behaviour:
      'ENCODING defaults to UTF8, and invalid UTF-8 is an error (REPLACE_INVALID_CHARACTERS = FALSE)',
    doc: COPY,
    format: 'type = csv',
    file: Buffer.from([0x31, 0x2c, 0x61, 0xa0, 0x62, 0x0a]),
    error: { code: '100096', message: /Invalid UTF8 detected in string 'a0xA0b'/ },
  },
  {
    behaviour: 'REPLACE_INVALID_CHARACTERS = TRUE replaces invalid UTF-8 with U+FFFD, one for one',
    doc: COPY,
    format: 'type = csv replace_invalid_characters = true',
    file: Buffer.from([0x31, 0x2c, 0x61, 0xa0, 0x62, 0x0a]),
    rows: [['1', 'a\uFFFDb']],
  },
  {
    behaviour: "ENCODING = 'ISO88591' reads Latin-1 bytes as their characters",
    doc: COPY,
    format: "type = csv encoding = 'ISO88591'",
    file: Buffer.from([0x31, 0x2c, 0x63, 0x61, 0x66, 0xe9, 0x0a]),
    rows: [['1', 'café']],
  },
  {
    behaviour: 'SKIP_BYTE_ORDER_MARK (default TRUE) skips a BOM at the start of the file',
    doc: COPY,
    format: 'type = csv',
    file: '\uFEFF1,x\n',
    rows: [['1', 'x']],
  },
  {
    behaviour: 'ERROR_ON_COLUMN_COUNT_MISMATCH (default TRUE) refuses a file with more fields than columns',
    doc: COPY,
    format: 'type = csv',
    file: '1,x,extra\n',
    error: { code: '100080' },
  },
  {
    behaviour: 'ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE loads the matching fields and NULL for missing ones',
    doc: COPY,
    format: 'type = csv error_on_column_count_mismatch = false',
    columns: 'id number, v varchar, w varchar',
    file: '1,x\n',
    rows: [['1', 'x', null]],
  },
  {
    behaviour: 'records of varying length are an error whatever ERROR_ON_COLUMN_COUNT_MISMATCH says',
    doc: COPY,
    format: 'type = csv error_on_column_count_mismatch = false',
    file: '1,x\n2\n',
    error: { code: '100068', message: /End of record reached while expected to parse column/ },
  },
  {
    behaviour: 'a blank line is an end-of-record error by default (SKIP_BLANK_LINES = FALSE)',
    doc: COPY,
    format: 'type = csv',
    file: '1,x\n\n2,y\n',
    error: { code: '100068' },
  },
  {
    behaviour: 'SKIP_BLANK_LINES = TRUE skips blank lines',
    doc: COPY,
    format: 'type = csv skip_blank_lines = true',
    file: '1,x\n\n2,y\n',
    rows: [
      ['1', 'x'],
      ['2', 'y'],
    ],
  },
  {
    behaviour: 'FIELD_DELIMITER takes another character, here a pipe',
    doc: COPY,
    format: "type = csv field_delimiter = '|'",
    file: '1|a,b\n',
    rows: [['1', 'a,b']],
  },
  {
    behaviour: 'a NOT NULL column refuses NULL with the message that suggests quotes',
    doc: COPY,
    format: 'type = csv',
    columns: 'id number, v varchar not null',
    file: '1,\n',
    error: {
      code: '100088',
      message: /Use quotes if an empty field should be interpreted as an empty string/,
    },
  },
  {
    behaviour: 'ON_ERROR = CONTINUE loads the good rows and reports the first error by line and column',
    doc: COPY,
    format: 'type = csv',
    columns: 'id number, n number',
    file: '1,1\n2,two\n3,3\n',
    options: 'on_error = continue',
    rows: [
      ['1', '1'],
      ['3', '3'],
    ],
  },
  {
    behaviour: 'an option the file format does not have is refused by name',
    doc: COPY,
    format: 'type = csv no_such_option = true',
    file: '1,x\n',
    error: { code: '001006', message: /invalid parameter 'NO_SUCH_OPTION'/ },
  },
  {
    behaviour: 'SKIP_HEADER is not supported with PARSE_HEADER = TRUE',
    doc: COPY,
    format: 'type = csv parse_header = true skip_header = 1',
    file: 'ID,V\n1,x\n',
    error: { code: '002089' },
  },
  {
    behaviour: 'FORMAT_NAME with other options is refused: the documentation leaves the outcome open',
    doc: COPY,
    format: "format_name = 'nope' type = csv",
    file: '1,x\n',
    error: { code: '000002', message: /FORMAT_NAME together with other file format options/ },
  },
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

describe('CSV format type options', () => {
  eachCase(
    cases,
    (c) => `${c.behaviour} (${c.doc})`,
    async (c) => {
      const load = copyFile(h, {
        columns: c.columns ?? 'id number, v varchar',
        format: c.format,
        file: c.file,
        options: c.options,
      });
      if (c.error) {
        await expect(load).rejects.toMatchObject({
          code: c.error.code,
          ...(c.error.message ? { message: expect.stringMatching(c.error.message) } : {}),
        });
      } else {
        expect(await load).toEqual(c.rows);
      }
    },
  );

  it(`keeps a named file format's options and reads with them (${FILE_FORMAT})`, async () => {
    await h.run("create file format pipes type = csv field_delimiter = '|' escape_unenclosed_field = none");
    await h.run('create table piped (id number, v varchar)');
    await h.put('named/1.csv', '1|a\\b\n');
    await h.run("copy into piped from @st/named/ file_format = (format_name = 'pipes')");
    expect((await h.run('select v from piped')).rows).toEqual([['a\\b']]);
  });

  it(`refuses a CREATE FILE FORMAT option it does not have (${FILE_FORMAT})`, async () => {
    await expect(h.run('create file format bad type = csv escape_everything = true')).rejects.toMatchObject({
      code: '001006',
    });
  });
});

describe("COPY's result", () => {
  it(`reports ON_ERROR = CONTINUE's first error with its line, character and column (${COPY})`, async () => {
    await h.run('create table reported (id number, n number)');
    await h.put('reported/1.csv', '1,1\n2,two\n');
    const [row] = byName(await h.run('copy into reported from @st/reported/ on_error = continue'));
    expect(row).toMatchObject({
      status: 'PARTIALLY_LOADED',
      rows_parsed: '2',
      rows_loaded: '1',
      errors_seen: '1',
      first_error: "Numeric value 'two' is not recognized",
      first_error_line: '2',
      first_error_character: '3',
      first_error_column_name: '"REPORTED"["N":2]',
    });
  });

  it(`leaves files loaded before out of the result and answers "0 files processed" when none is left (${COPY})`, async () => {
    await h.run('create table twice (id number, v varchar)');
    await h.put('twice/a.csv', '1,a\n');
    expect(byName(await h.run('copy into twice from @st/twice/')).map((r) => r.status)).toEqual(['LOADED']);
    const again = await h.run('copy into twice from @st/twice/');
    expect(again.columns.map((c) => c.name)).toEqual(['status']);
    expect(again.rows).toEqual([['Copy executed with 0 files processed.']]);
    await h.put('twice/b.csv', '2,b\n');
    const partly = byName(await h.run('copy into twice from @st/twice/'));
    expect(partly.map((r) => r.file)).toEqual([`s3://${h.bucket}/${h.prefix}twice/b.csv`]);
  });

  it(`with a FILES list and FORCE = FALSE, leaves out a retried_files file loaded before and loads the rest once (${COPY})`, async () => {
    // "FORCE = TRUE | FALSE: Boolean that specifies to load all files, regardless of whether they've been
    // loaded previously and have not changed since they were loaded"; the default, FALSE, skips them.
    await h.run('create table retried_files (id number, v varchar)');
    await h.put('retried_files/a.csv', '1,a\n');
    await h.put('retried_files/b.csv', '2,b\n');
    const copy = "copy into retried_files from @st/retried_files/ files = ('a.csv', 'b.csv') force = false";
    expect(
      byName(
        await h.run("copy into retried_files from @st/retried_files/ files = ('a.csv') force = false"),
      ).map((r) => r.status),
    ).toEqual(['LOADED']);
    const again = byName(await h.run(copy));
    expect(again.map((r) => r.file)).toEqual([`s3://${h.bucket}/${h.prefix}retried_files/b.csv`]);
    expect(byName(await h.run(copy)).map((r) => r.status)).toEqual(['Copy executed with 0 files processed.']);
    expect((await h.run('select id from retried_files order by id')).rows).toEqual([['1'], ['2']]);
  });

  it(`loads files again with FORCE = TRUE, "potentially duplicating data" (${COPY})`, async () => {
    await h.run('create table forced (id number, v varchar)');
    await h.put('forced/a.csv', '1,a\n');
    await h.run('copy into forced from @st/forced/');
    expect(
      byName(await h.run('copy into forced from @st/forced/ force = true')).map((r) => r.status),
    ).toEqual(['LOADED']);
    expect((await h.run('select count(*) from forced')).rows).toEqual([['2']]);
  });

  it(`feeds the columns a COPY names, in the order named, from the file's fields (${COPY})`, async () => {
    // "The first column consumes the values produced from the first field/column extracted from the
    // loaded files."
    await h.run('create table named (a varchar, b number, c varchar)');
    await h.put('column-list/a.csv', 'x,2,y\n');
    await h.run('copy into named (c, b, a) from @st/column-list/');
    expect((await h.run('select a, b, c from named')).rows).toEqual([['y', '2', 'x']]);
  });

  it(`refuses a COPY column list naming a column the table lacks (${COPY})`, async () => {
    await h.run('create table listed (a varchar)');
    await h.put('listed/a.csv', 'x\n');
    await expect(h.run('copy into listed (missing) from @st/listed/')).rejects.toMatchObject({
      code: '000904',
      message: expect.stringContaining("invalid identifier 'MISSING'"),
    });
  });

  it(`refuses a copy option it does not have, by name (${COPY})`, async () => {
    await h.run('create table opted (id number)');
    await expect(h.run('copy into opted from @st/ parallel = 16')).rejects.toMatchObject({
      code: '001006',
      message: expect.stringContaining("invalid parameter 'PARALLEL'"),
    });
  });
});
