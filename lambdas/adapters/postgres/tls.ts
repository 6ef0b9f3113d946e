// TLS to PostgreSQL: the `ssl` options the pg driver hands to Node's tls.connect for each mode, and a
// failed handshake named for what to fix (a CA bundle that does not hold the server's issuer, a host the
// certificate does not name, a server without TLS). The modes follow libpq's sslmode
// (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { LAMBDA_CA_FILE, type PostgresTls } from '../../config';
import { InvalidConfigError, SourceTlsError } from '../../domain/errors';

/**
 * What pg passes to tls.connect. With a CA file, only its certificates are trusted (Node's `ca` replaces
 * the default list for this connection); without one, Node's default list.
 */
export function pgTlsOptions(tls: PostgresTls): false | ConnectionOptions {
  if (tls.mode === 'disable') return false;
  const ca = tls.caFile !== undefined ? readCaFile(tls.caFile) : undefined;
  return {
    // require: encrypted, certificate not checked (libpq's `require` without a root certificate).
    rejectUnauthorized: tls.mode !== 'require',
    ...(ca !== undefined ? { ca } : {}),
    // verify-ca: the chain is checked, the host name is not.
    ...(tls.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const where =
      path === LAMBDA_CA_FILE
        ? ` (${LAMBDA_CA_FILE} exists only inside Lambda's Node.js runtimes; here give the CA bundle itself)`
        : '';
    throw new InvalidConfigError(
      `postgres.ssl.caFile ${path} cannot be read (${code})${where}: give a PEM file of the CA certificates that sign the server's certificate`,
      { cause: err },
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InvalidConfigError(
      `postgres.ssl.caFile ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA bundle in PEM form`,
    );
  }
  return text;
}

/** The certificate checks Node's TLS reports by code (OpenSSL's X509_V_ERR names, and Node's own). */
const VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
]);
const HOST_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
/** pg's own words when the server answers its SSLRequest with "no". */
const NO_TLS_MESSAGE = /server does not support SSL/i;

interface TlsLikeError {
  readonly code?: string;
  readonly message?: string;
}

export function isTlsFailure(err: unknown): boolean {
  const e = err as TlsLikeError | undefined;
  const code = e?.code ?? '';
  return (
    VERIFY_CODES.has(code) ||
    HOST_CODES.has(code) ||
    code.startsWith('ERR_SSL_') ||
    NO_TLS_MESSAGE.test(e?.message ?? '')
  );
}

/** How `tls` reads in a message: the mode and what it verifies against. */
export function describeTls(tls: PostgresTls): string {
  if (tls.mode === 'disable') return 'false (no TLS)';
  const against = tls.caFile !== undefined ? `the CAs in ${tls.caFile}` : "Node's default CAs";
  return tls.mode === 'require' ? 'mode require (not verified)' : `mode ${tls.mode}, against ${against}`;
}

/** A failed handshake as a SourceTlsError saying which setting to change. */
export function tlsFailure(err: unknown, where: string, tls: PostgresTls): SourceTlsError {
  const e = err as TlsLikeError;
  const code = e?.code ?? '';
  const detail = `${code ? `${code}: ` : ''}${e?.message ?? String(err)}`;
  const setting = describeTls(tls);
  if (NO_TLS_MESSAGE.test(e?.message ?? '')) {
    return new SourceTlsError(
      `PostgreSQL at ${where} does not accept TLS connections (postgres.ssl is ${setting}): turn ssl on in the server, or set postgres.ssl to false (sslmode=disable) where the network itself is trusted, as for the embedded PostgreSQL`,
      { cause: err },
    );
  }
  if (HOST_CODES.has(code)) {
    return new SourceTlsError(
      `PostgreSQL at ${where} presented a certificate for another host name (${detail}): connect by a name the certificate holds (postgres.host or the url), or set postgres.ssl.mode to "verify-ca" to check only who issued it`,
      { cause: err },
    );
  }
  return new SourceTlsError(
    `PostgreSQL at ${where} presented a certificate that does not verify (${detail}; postgres.ssl is ${setting}): set postgres.ssl.caFile to the CA bundle that issued it (for Amazon RDS its global bundle, or ${LAMBDA_CA_FILE} in Lambda), or check the server's certificate`,
    { cause: err },
  );
}
