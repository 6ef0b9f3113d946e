// How `postgres.ssl` and the url's sslmode resolve to the TLS a connection uses: verified unless told
// otherwise, never a silent fallback to cleartext.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgresSchema, postgresTlsSetting, resolvePostgres } from '../../lambdas/config';
import { loadConfigFile } from '../../lambdas/config-file';
import { InvalidConfigError } from '../../lambdas/domain/errors';

const tlsOf = (settings: Record<string, unknown>) => resolvePostgres(postgresSchema.parse(settings)).ssl;
const URL_BASE = 'postgres://u@db.internal:5432/shop';

describe('postgres.ssl', () => {
  it('verifies the certificate and the host name when nothing is said', () => {
    expect(tlsOf({ url: URL_BASE })).toEqual({ mode: 'verify-full' });
    expect(tlsOf({ host: 'db.internal', database: 'shop' })).toEqual({ mode: 'verify-full' });
  });

  it('reads true as verify-full and false as no TLS', () => {
    expect(tlsOf({ url: URL_BASE, ssl: true })).toEqual({ mode: 'verify-full' });
    expect(tlsOf({ url: URL_BASE, ssl: false })).toEqual({ mode: 'disable' });
  });

  it('takes a mode and a CA bundle, and lets them win over the url', () => {
    const ssl = { mode: 'verify-ca', caFile: '/opt/ca.pem' };
    expect(tlsOf({ url: `${URL_BASE}?sslmode=disable`, ssl })).toEqual(ssl);
    expect(tlsOf({ url: URL_BASE, ssl: { caFile: '/opt/ca.pem' } })).toEqual({
      mode: 'verify-full',
      caFile: '/opt/ca.pem',
    });
  });

  it("follows the url's sslmode when ssl is not set", () => {
    expect(tlsOf({ url: `${URL_BASE}?sslmode=require` })).toEqual({ mode: 'require' });
    expect(tlsOf({ url: `${URL_BASE}?sslmode=disable` })).toEqual({ mode: 'disable' });
  });

  it('refuses the sslmodes that fall back to cleartext without saying so, and unknown ones', () => {
    for (const mode of ['prefer', 'allow']) {
      expect(() => tlsOf({ url: `${URL_BASE}?sslmode=${mode}` })).toThrow(InvalidConfigError);
      expect(() => tlsOf({ url: `${URL_BASE}?sslmode=${mode}` })).toThrow(/falls back to an unencrypted/);
    }
    expect(() => tlsOf({ url: `${URL_BASE}?sslmode=strict` })).toThrow(/sslmode=strict is not one of/);
  });

  it('refuses an unknown mode in the setting', () => {
    expect(() => postgresSchema.parse({ url: URL_BASE, ssl: { mode: 'prefer' } })).toThrow();
  });

  it('writes a resolved TLS back as the setting that gives it', () => {
    for (const tls of [
      { mode: 'verify-full' },
      { mode: 'require' },
      { mode: 'verify-ca', caFile: '/ca' },
    ] as const) {
      expect(tlsOf({ url: URL_BASE, ssl: postgresTlsSetting(tls) })).toEqual(tls);
    }
    expect(postgresTlsSetting({ mode: 'disable' })).toBe(false);
  });

  it('finds a relative caFile beside the configuration file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-tls-config-'));
    const path = join(dir, 'tally.json');
    writeFileSync(
      path,
      JSON.stringify({
        tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
        postgres: { url: URL_BASE, ssl: { caFile: 'certs/global-bundle.pem' } },
        s3: { bucket: 'tally-bucket' },
        snowflake: { account: 'a', username: 'u', password: 'p', database: 'D' },
      }),
    );
    const config = await loadConfigFile(path);
    expect(config.postgres.ssl).toEqual({
      mode: 'verify-full',
      caFile: join(dir, 'certs/global-bundle.pem'),
    });
  });
});
