// TLS to PostgreSQL against an embedded server with a certificate from a CA made here (openssl): verify-full
// succeeds with the CA bundle and the connection is encrypted; a bundle without the issuer, a host the
// certificate does not name, and a server without TLS each fail as SourceTlsError saying what to fix.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PgConnections } from '../../lambdas/adapters/postgres/connection';
import { LAMBDA_CA_FILE, type PostgresConfig, postgresSchema } from '../../lambdas/config';
import { InvalidConfigError, SourceTlsError } from '../../lambdas/domain/errors';
import { type LocalPostgres, startPostgres } from '../../local/postgres';

const dir = mkdtempSync(join(tmpdir(), 'tally-pg-tls-'));
const file = (name: string) => join(dir, name);
let server: LocalPostgres;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** A CA, a server certificate it signs for 127.0.0.1 and db.tally.test, and an unrelated second CA. */
function makeCertificates(): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=Tally test ${ca}`,
      '-keyout',
      file(`${ca}.key`),
      '-out',
      file(`${ca}.pem`),
    );
  }
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=db.tally.test',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:db.tally.test\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
    '-out',
    file('server.pem'),
  );
  // PostgreSQL refuses a key others can read; as root the server runs as the `postgres` user, which must own it.
  chmodSync(dir, 0o755);
  chmodSync(file('server.key'), 0o600);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    chownSync(file('server.key'), uid, -1);
  }
}

beforeAll(async () => {
  makeCertificates();
  server = await startPostgres({
    // 127.0.0.2 too, so that a client can reach the server by an address its certificate does not name.
    settings: {
      listen_addresses: '127.0.0.1,127.0.0.2',
      ssl: 'on',
      ssl_cert_file: file('server.pem'),
      ssl_key_file: file('server.key'),
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The TLS server's url on `host`, with `ssl` as given (the url's own sslmode=disable dropped). */
function tlsConfig(ssl: unknown, host = '127.0.0.1', base = server.url): PostgresConfig {
  const url = new URL(base);
  url.searchParams.delete('sslmode');
  url.hostname = host;
  return postgresSchema.parse({ url: url.toString(), ssl, connectTimeoutMs: 5_000 });
}

/** Whether the session runs over TLS, as the server sees it; throws what the connection throws. */
async function sessionTls(config: PostgresConfig): Promise<boolean> {
  const connections = new PgConnections(config);
  try {
    return await connections.withClient(async (client) => {
      const result = await client.query<{ ssl: boolean }>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return result.rows[0]?.ssl === true;
    });
  } finally {
    await connections.close();
  }
}

async function failure(config: PostgresConfig): Promise<Error> {
  return sessionTls(config).then(
    () => {
      throw new Error('expected the connection to fail');
    },
    (err: Error) => err,
  );
}

describe('PostgreSQL over TLS', () => {
  it('connects with verify-full against the CA bundle that issued the certificate, encrypted', async () => {
    expect(await sessionTls(tlsConfig({ mode: 'verify-full', caFile: file('ca.pem') }))).toBe(true);
  });

  it('verifies by default: an unset ssl is verify-full against Node’s CAs, which do not hold a private CA', async () => {
    const err = await failure(tlsConfig(undefined));
    expect(err).toBeInstanceOf(SourceTlsError);
    expect(err.message).toMatch(
      /does not verify .*set postgres\.ssl\.caFile to the CA bundle that issued it/,
    );
  });

  it('fails with a CA bundle that did not issue the certificate, naming caFile and the RDS and Lambda bundles', async () => {
    const err = await failure(tlsConfig({ mode: 'verify-full', caFile: file('other-ca.pem') }));
    expect(err).toBeInstanceOf(SourceTlsError);
    expect(err.name).toBe('SourceTlsError');
    expect(err.message).toContain(`the CAs in ${file('other-ca.pem')}`);
    expect(err.message).toContain('postgres.ssl.caFile');
    expect(err.message).toContain(LAMBDA_CA_FILE);
    expect(err.message).toContain('Amazon RDS');
  });

  it('fails when the certificate names another host, and says to connect by its name or use verify-ca', async () => {
    // 127.0.0.2 reaches the same loopback server, but the certificate names 127.0.0.1 and db.tally.test.
    const err = await failure(tlsConfig({ mode: 'verify-full', caFile: file('ca.pem') }, '127.0.0.2'));
    expect(err).toBeInstanceOf(SourceTlsError);
    expect(err.message).toMatch(/certificate for another host name .*ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(err.message).toContain('verify-ca');
  });

  it('lets verify-ca accept that host: the issuer is checked, the name is not', async () => {
    expect(await sessionTls(tlsConfig({ mode: 'verify-ca', caFile: file('ca.pem') }, '127.0.0.2'))).toBe(
      true,
    );
    // ...and the issuer still is.
    const err = await failure(tlsConfig({ mode: 'verify-ca', caFile: file('other-ca.pem') }, '127.0.0.2'));
    expect(err).toBeInstanceOf(SourceTlsError);
  });

  it('reads sslmode=verify-full from the url, and ssl: false turns TLS off', async () => {
    const url = new URL(server.url);
    url.searchParams.set('sslmode', 'verify-full');
    const fromUrl = postgresSchema.parse({ url: url.toString(), connectTimeoutMs: 5_000 });
    expect(await failure(fromUrl)).toBeInstanceOf(SourceTlsError);
    expect(await sessionTls(tlsConfig(false))).toBe(false);
  });

  it('fails by name when the server has no TLS at all', async () => {
    const err = await failure(tlsConfig({ mode: 'require' }, '127.0.0.1', inject('stack').postgres.url));
    expect(err).toBeInstanceOf(SourceTlsError);
    expect(err.message).toMatch(/does not accept TLS connections .*set postgres\.ssl to false/);
  });

  it('refuses a CA file that cannot be read, saying where Lambda’s own bundle exists', () => {
    expect(() => new PgConnections(tlsConfig({ mode: 'verify-full', caFile: LAMBDA_CA_FILE }))).toThrow(
      InvalidConfigError,
    );
    expect(() => new PgConnections(tlsConfig({ mode: 'verify-full', caFile: LAMBDA_CA_FILE }))).toThrow(
      /exists only inside Lambda's Node\.js runtimes/,
    );
    expect(() => new PgConnections(tlsConfig({ mode: 'verify-full', caFile: file('server.ext') }))).toThrow(
      /holds no PEM certificate/,
    );
  });
});
