// The credentials' secrets, read from Secrets Manager with the AWS SDK and kept for a while across warm
// invocations. A failure to read one is a named error Step Functions can route: throttling, an
// unreachable endpoint or a service fault is retried; a denied access, a missing secret, a key the role
// may not decrypt with, or a value that is not JSON fails the table at once and says what to fix. Errors
// name the secret's id, never its value. A rotation is picked up within the cache's lifetime, or at once
// when a sign-in with the cached value is refused (see `handler.ts`).
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { AWS_API_TIMEOUTS, awsRequestHandler } from '../adapters/aws-http';
import { NETWORK_CODES } from '../adapters/network';
import { InvalidConfigError, SecretAccessError, SecretUnavailableError, TallyError } from '../domain/errors';
import type { Secrets } from './credentials';
import type { TallyContext } from './middleware';

/** Which secret holds which credentials: the secrets' ARNs, from the function's environment. */
export type SecretIds = { readonly [K in keyof Secrets]?: string };

/**
 * The Secrets Manager client the functions use: an unreachable endpoint fails within seconds instead of
 * holding the invocation until its timeout. The SDK's own retries (throttling, 5xx) still apply.
 */
export function createSecretsClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    // throwOnRequestTimeout: without it the SDK only logs a request that outlives requestTimeout.
    requestHandler: awsRequestHandler(AWS_API_TIMEOUTS),
    ...config,
  });
}

/** Errors a wait can help with (Secrets Manager API reference, GetSecretValue, and common errors). */
const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** What each refusal means for the person who must fix it. */
const ACCESS_HINTS: Readonly<Record<string, string>> = {
  AccessDeniedException:
    "the function's role may not read it: check the grant and the secret's resource policy",
  ResourceNotFoundException:
    'no such secret in this account and region: check the secret name given at deploy',
  DecryptionFailure:
    "Secrets Manager could not decrypt it with its KMS key: give the role kms:Decrypt on that key (-c secretsKmsKeyArn) and check the key's policy",
  InvalidRequestException: 'the secret cannot be read now (deleted, or scheduled for deletion): restore it',
  InvalidParameterException: 'the secret id is not valid: check the secret name given at deploy',
  UnrecognizedClientException: "the function's credentials were refused",
  InvalidSignatureException: "the function's credentials were refused",
  ExpiredTokenException: "the function's credentials expired",
};

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $fault?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Maps a failed GetSecretValue to a named error; the message names the secret and never its value. */
export function secretError(secretId: string, err: unknown): TallyError {
  if (err instanceof TallyError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  if (
    UNAVAILABLE_NAMES.has(name) ||
    NETWORK_CODES.has(e.code ?? '') ||
    (status !== undefined && status >= 500) ||
    (e.$fault === 'server' && !(name in ACCESS_HINTS))
  ) {
    return new SecretUnavailableError(
      `Secrets Manager could not return secret ${secretId} (${e.code ?? name}): check that the functions reach Secrets Manager (NAT or an interface endpoint in a VPC); the step will retry`,
      { cause: err },
    );
  }
  const hint = ACCESS_HINTS[name] ?? 'see the error name';
  return new SecretAccessError(`Secrets Manager refused secret ${secretId} (${name}): ${hint}`, {
    cause: err,
  });
}

/** The secrets of one function, fetched together and kept for `maxAgeMs`. */
export class SecretStore {
  private cached?: { readonly at: number; readonly secrets: Secrets; readonly text: string };

  constructor(
    private readonly ids: SecretIds,
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The secrets, from the cache while it is fresh. */
  async get(): Promise<Secrets> {
    if (this.cached && this.now() - this.cached.at < this.maxAgeMs) return this.cached.secrets;
    return (await this.fetch()).secrets;
  }

  /** Reads every secret again; `changed` says whether any value differs from the one cached. */
  async refresh(): Promise<{ secrets: Secrets; changed: boolean }> {
    const before = this.cached?.text;
    const fetched = await this.fetch();
    return { secrets: fetched.secrets, changed: before !== undefined && before !== fetched.text };
  }

  private async fetch(): Promise<{ secrets: Secrets; text: string }> {
    // Every read settles before one failure is thrown, so none is left running into the next invocation.
    const settled = await Promise.allSettled(
      Object.entries(this.ids).map(async ([key, id]) => [key, await this.read(id as string)] as const),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const entries = settled.map((r) => (r as PromiseFulfilledResult<readonly [string, unknown]>).value);
    const secrets = Object.fromEntries(entries) as Secrets;
    const text = JSON.stringify(entries);
    this.cached = { at: this.now(), secrets, text };
    return { secrets, text };
  }

  private async read(secretId: string): Promise<unknown> {
    let value: string | undefined;
    try {
      value = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      throw secretError(secretId, err);
    }
    if (value === undefined) {
      throw new InvalidConfigError(`secret ${secretId} holds no text value: store its credentials as JSON`);
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      // JSON.parse's message quotes the text, which is the secret: say only where it went wrong.
      throw new InvalidConfigError(
        `secret ${secretId} is not valid JSON: store its credentials as a JSON object`,
      );
    }
  }
}

/** Puts the secrets of every store on the context before the step runs, where `tallyRuntime` takes them. */
export function fetchSecrets(
  ...stores: readonly SecretStore[]
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: async (request) => {
      const context = request.context as TallyContext;
      const all = await Promise.all(stores.map((store) => store.get()));
      const secrets: Secrets = Object.assign({}, ...all);
      if (secrets.postgres !== undefined) context.postgresSecret = secrets.postgres;
      if (secrets.snowflake !== undefined) context.snowflakeSecret = secrets.snowflake;
      if (secrets.checkpoint !== undefined) context.checkpointSecret = secrets.checkpoint;
    },
  };
}

/**
 * The checkpoint key's secret, read once per cold start and kept: a rotated key is taken up by the next
 * cold start, and until then the key it replaced (kept in `previousKeys`) still verifies what it signs.
 */
export function checkpointKeyStore(
  secretArn: string | undefined,
  client: Pick<SecretsManagerClient, 'send'>,
): SecretStore | undefined {
  return secretArn === undefined
    ? undefined
    : new SecretStore({ checkpoint: secretArn }, client, Number.POSITIVE_INFINITY);
}
