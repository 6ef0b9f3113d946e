// How a failed Secrets Manager read is named: what a wait can help with is retried, what a person must fix
// fails the table at once, and the message names the secret, never a value.
import { describe, expect, it } from 'vitest';
import { secretError } from '../../../lambdas/runtime/secrets';
import { RETRYABLE_ERRORS } from '../../../lib/transfer-definition';

const ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tally/postgres-AbCdEf';
const sdkError = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
  Object.assign(new Error(`${name} message`), { name, $fault: fault, $metadata: { httpStatusCode: status } });

describe('a failed secret read', () => {
  it.each([
    ['ThrottlingException', sdkError('ThrottlingException', 400)],
    ['InternalServiceError', sdkError('InternalServiceError', 500, 'server')],
    ['a 503', sdkError('ServiceUnavailable', 503, 'server')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['an unknown host', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })],
    ['a socket timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('is retried after %s', (_, err) => {
    const named = secretError(ID, err);
    expect(named.name).toBe('SecretUnavailableError');
    expect(named.transient).toBe(true);
    expect(named.message).toContain(ID);
    expect(RETRYABLE_ERRORS).toContain(named.name);
  });

  it.each([
    ['AccessDeniedException', /may not read it/],
    ['ResourceNotFoundException', /no such secret/],
    ['DecryptionFailure', /kms:Decrypt/],
    ['InvalidRequestException', /scheduled for deletion/],
    ['UnrecognizedClientException', /credentials were refused/],
  ])('fails at once on %s, saying what to fix', (name, hint) => {
    const named = secretError(ID, sdkError(name, 400));
    expect(named.name).toBe('SecretAccessError');
    expect(named.transient).toBe(false);
    expect(named.message).toContain(`secret ${ID} (${name})`);
    expect(named.message).toMatch(hint);
    expect(RETRYABLE_ERRORS).not.toContain(named.name);
  });

  it('keeps the SDK error as its cause', () => {
    const cause = sdkError('AccessDeniedException', 400);
    expect(secretError(ID, cause).cause).toBe(cause);
  });
});
