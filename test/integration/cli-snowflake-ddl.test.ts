// `tally snowflake-ddl`: the administrator's script for the configured tables, derived from the source.
import { describe, expect, inject, it } from 'vitest';
import { writeConfigFile } from '../../lambdas/config-file';
import { DEMO_TABLES, seedDemo } from '../../local/demo-data';
import { localConfig } from '../../local/local-config';
import { scratchFolder, tally } from '../support/cli';
import { freshDatabase } from '../support/postgres';

const dir = scratchFolder('tally-ddl');

describe('tally snowflake-ddl', () => {
  it('prints roles, grants and a target table owned by the loader per configured table', {
    timeout: 120_000,
  }, async () => {
    const stack = inject('stack');
    const url = await freshDatabase(`ddl_${process.pid}`);
    await seedDemo(url, { rows: 5, seed: 1 });
    const config = localConfig({ ...stack, postgres: { url } }, DEMO_TABLES);
    const path = dir.file('tally.json');
    await writeConfigFile(path, config);
    const role = 'arn:aws:iam::123456789012:role/tally-snowflake-read';

    const { code, stdout, stderr } = await tally('snowflake-ddl', '--config', path, '--aws-role-arn', role);
    expect(code, stderr).toBe(0);
    // The public key was not given: the script names its placeholder at its head, and stderr says so.
    expect(stderr).toContain('BEFORE RUNNING: replace each of the 1 placeholder(s)');
    expect(stdout).toMatch(/RSA_PUBLIC_KEY = <<FILL IN: /);

    expect(stdout).toContain('CREATE ROLE IF NOT EXISTS "TALLY_LOADER";');
    expect(stdout).toContain(`STORAGE_AWS_ROLE_ARN = '${role}'`);
    expect(stdout).toMatch(
      /GRANT INSERT, SELECT ON TABLE \S+"TALLY_AUDIT_LOG" TO ROLE "TALLY_AUDIT_WRITER";/,
    );
    for (const table of DEMO_TABLES) {
      const target = `"TALLY"."PUBLIC"."${table.name.toUpperCase()}"`;
      expect(stdout).toContain(`CREATE TABLE IF NOT EXISTS ${target} (`);
      expect(stdout).toContain(
        `GRANT OWNERSHIP ON TABLE ${target} TO ROLE "TALLY_LOADER" COPY CURRENT GRANTS;`,
      );
    }
  });
});
