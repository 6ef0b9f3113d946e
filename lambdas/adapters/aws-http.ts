// How long Tally's AWS SDK clients wait on the network. The SDK's HTTP handler waits for ever by default
// (no connection or request timeout), so a function in a subnet with no route to S3 or Secrets Manager
// would hang until its Lambda timeout; with these limits the call fails within seconds, after the SDK's
// own retries, and the caller names the failure.
//
// @smithy/node-http-handler (NodeHttpHandlerOptions): `connectionTimeout` ends a TCP connect that gets no
// answer, `requestTimeout` ends a request whose response headers have not arrived (only with
// `throwOnRequestTimeout`, otherwise it merely logs a warning), and `socketTimeout` ends a socket that
// stays silent while a body streams.

/** The limits of one client, in milliseconds. */
export interface AwsHttpTimeouts {
  /** Longest a TCP connect may take (a missing route drops it: nothing ever answers). */
  readonly connectionTimeout: number;
  /** Longest until the response's headers arrive, the request body included. */
  readonly requestTimeout: number;
  /** Longest an open socket may stay silent. */
  readonly socketTimeout: number;
}

/**
 * The small JSON APIs Tally calls (Secrets Manager, Step Functions, CloudFormation) answer in well under a
 * second; 5 s per attempt, three attempts, ends a hopeless call in about 15 s.
 */
export const AWS_API_TIMEOUTS: AwsHttpTimeouts = {
  connectionTimeout: 5_000,
  requestTimeout: 5_000,
  socketTimeout: 5_000,
};

/**
 * S3 carries 8 MiB upload parts, and completing a multipart upload can take a while (S3 keeps the
 * connection alive meanwhile), so a request may take a minute; connecting still may not.
 */
export const S3_TIMEOUTS: AwsHttpTimeouts = {
  connectionTimeout: 5_000,
  requestTimeout: 60_000,
  socketTimeout: 30_000,
};

/** The `requestHandler` option of an AWS SDK v3 client that enforces `timeouts`. */
export function awsRequestHandler(timeouts: AwsHttpTimeouts) {
  return { ...timeouts, throwOnRequestTimeout: true } as const;
}

/** Whether an SDK failure is one of these limits (or the socket's own timeout) running out. */
export function isAwsTimeout(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | undefined;
  return e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT';
}
