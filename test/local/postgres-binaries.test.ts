// The embedded PostgreSQL started from a checkout in a directory other users cannot enter (/root, as in a
// container), where root's initdb and postgres, run as the postgres user, cannot reach the package's binaries.
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { packagedNativeDir, postgresBinaries, reachableByOthers, startPostgres } from '../../local/postgres';

const made: string[] = [];

afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

async function closedCheckout(): Promise<string> {
  // mkdtemp makes a 0700 directory: others cannot enter it, as with /root.
  const home = await mkdtemp(join(tmpdir(), 'tally-closed-home-'));
  made.push(home);
  const native = join(home, 'checkout', 'native');
  await cp(await packagedNativeDir(), native, { recursive: true, verbatimSymlinks: true });
  await chmod(home, 0o700);
  return native;
}

describe('the embedded PostgreSQL from a directory others cannot enter', () => {
  it('tells a directory others can reach from one inside a closed directory', async () => {
    const native = await closedCheckout();
    expect(await reachableByOthers(tmpdir())).toBe(true);
    expect(await reachableByOthers(native)).toBe(false);
  });

  it('runs the binaries from a copy others can reach when it runs as root, and from where they are otherwise', async () => {
    const native = await closedCheckout();
    const binaries = await postgresBinaries(native);
    if (process.getuid?.() === 0) {
      expect(binaries.initdb.startsWith(native)).toBe(false);
      expect(await reachableByOthers(binaries.initdb)).toBe(true);
    } else {
      expect(binaries.initdb).toBe(join(native, 'bin', 'initdb'));
    }
  });

  it('starts and answers a query with its binaries in a closed directory', async () => {
    const server = await startPostgres({ nativeDir: await closedCheckout(), database: 'closed' });
    try {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const r = await client.query('SELECT 1 + 1 AS two');
      await client.end();
      expect(r.rows).toEqual([{ two: 2 }]);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
