// SHOW FILE FORMATS and SHOW STAGES in one schema, as Tally's bootstrap reads them to learn what exists:
// the objects the role has a privilege on, filtered by a case-insensitive LIKE, with their comments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionState } from '../../local/snowflake/engine-types';
import { SHOW_FILE_FORMATS, SHOW_STAGES } from './docs';
import { type Harness, startHarness } from './harness';

let h: Harness;
let admin: SessionState;

/** The answer's rows as objects keyed by column name. */
async function shown(sql: string, session?: SessionState): Promise<Record<string, string | null>[]> {
  const result = await h.run(sql, session);
  return result.rows.map((row) =>
    Object.fromEntries(result.columns.map((c, i) => [c.name, (row[i] ?? null) as string | null])),
  );
}

beforeAll(async () => {
  h = await startHarness();
  admin = h.session('ACCOUNTADMIN');
  await h.run("create file format shown_csv type = csv comment = 'kept with the format'");
  await h.run('create file format other_csv type = csv');
  await h.run(
    `create stage shown_stage url = 's3://${h.bucket}/${h.prefix}shown/' storage_integration = s3_int comment = 'kept with the stage'`,
  );
  await h.run('create role onlooker', admin);
  await h.run('grant usage on database tally to role onlooker', admin);
  await h.run('grant usage on schema tally.public to role onlooker', admin);
});

afterAll(async () => {
  await h.close();
});

describe("SHOW of a schema's objects", () => {
  it(`lists a file format with its comment, matched by a case-insensitive LIKE (${SHOW_FILE_FORMATS})`, async () => {
    expect(await shown("show file formats like 'Shown\\_%' in schema tally.public")).toEqual([
      expect.objectContaining({
        name: 'SHOWN_CSV',
        database_name: 'TALLY',
        schema_name: 'PUBLIC',
        comment: 'kept with the format',
      }),
    ]);
    const all = await shown('show file formats in schema public');
    expect(all.map((r) => r.name)).toEqual(['OTHER_CSV', 'SHOWN_CSV']);
  });

  it(`lists a stage with its URL, integration and comment (${SHOW_STAGES})`, async () => {
    expect(await shown("show stages like 'shown_stage' in schema tally.public")).toEqual([
      expect.objectContaining({
        name: 'SHOWN_STAGE',
        url: `s3://${h.bucket}/${h.prefix}shown/`,
        storage_integration: 'S3_INT',
        comment: 'kept with the stage',
      }),
    ]);
  });

  it(`lists only what the role has a privilege on (${SHOW_FILE_FORMATS})`, async () => {
    const onlooker = h.session('ONLOOKER');
    expect(await shown('show file formats in schema tally.public', onlooker)).toEqual([]);
    await h.run('grant usage on file format tally.public.other_csv to role onlooker', admin);
    expect((await shown('show file formats in schema tally.public', onlooker)).map((r) => r.name)).toEqual([
      'OTHER_CSV',
    ]);
  });

  it(`answers that a missing schema does not exist (${SHOW_STAGES})`, async () => {
    await expect(h.run('show stages in schema tally.missing')).rejects.toMatchObject({ code: '002003' });
  });
});
