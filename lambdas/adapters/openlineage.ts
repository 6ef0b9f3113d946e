// The OpenLineage transports Tally sends with, as the OpenLineage clients define them: `http` POSTs each
// event as JSON to the endpoint (a Bearer token when there is a key), `file` writes it to a file, and
// `console` prints it. Every failure message names where the event was going and never the key.
import { appendFile, writeFile } from 'node:fs/promises';
import type { LineageTransportConfig } from '../config';
import type { LineageTransport } from '../ports';

/** The Bearer token: as configured, or read when first needed (from Secrets Manager, in AWS). */
export type ApiKeySource = string | (() => Promise<string>);

export function openLineageTransport(
  config: LineageTransportConfig,
  apiKey?: ApiKeySource,
): LineageTransport {
  switch (config.type) {
    case 'http':
      return new HttpTransport(config.url, config.endpoint, config.timeoutMs, apiKey ?? config.apiKey);
    case 'file':
      return new FileTransport(config.logFilePath, config.append);
    case 'console':
      return {
        target: 'the console (standard error)',
        send: async (event) => {
          process.stderr.write(`${JSON.stringify(event)}\n`);
        },
      };
  }
}

/** Thrown when an event was not taken: the message says where and why, never with the key. */
export class LineageSendError extends Error {
  override readonly name = 'LineageSendError';
}

export class HttpTransport implements LineageTransport {
  readonly target: string;
  private readonly url: string;

  constructor(
    base: string,
    endpoint: string,
    private readonly timeoutMs: number,
    private readonly apiKey: ApiKeySource | undefined,
  ) {
    const url = new URL(base);
    // The endpoint is relative to the url's path, as the clients join them.
    const path = `${url.pathname.replace(/\/+$/, '')}/${endpoint.replace(/^\/+/, '')}`;
    url.pathname = path;
    this.url = url.toString();
    // Credentials a url might carry stay out of every message.
    this.target = `${url.origin}${url.pathname}`;
  }

  async send(event: unknown): Promise<void> {
    let key: string | undefined;
    try {
      key = typeof this.apiKey === 'function' ? await this.apiKey() : this.apiKey;
    } catch (err) {
      throw new LineageSendError(`${this.target}: the API key could not be read: ${(err as Error).message}`);
    }
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new LineageSendError(
        `${this.target} did not take the event: ${describeFetchError(err, this.timeoutMs)}`,
      );
    }
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) {
      throw new LineageSendError(`${this.target} answered ${response.status} ${response.statusText}`.trim());
    }
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'request failed'} (${cause})` : (e.message ?? String(err));
}

export class FileTransport implements LineageTransport {
  readonly target: string;
  private seq = 0;

  constructor(
    private readonly path: string,
    private readonly append: boolean,
  ) {
    this.target = append ? `the file ${path}` : `files named ${path}-<time>.json`;
  }

  async send(event: unknown): Promise<void> {
    const json = JSON.stringify(event);
    try {
      if (this.append) await appendFile(this.path, `${json}\n`);
      else await writeFile(`${this.path}-${this.timeSuffix()}.json`, json, { flag: 'wx' });
    } catch (err) {
      throw new LineageSendError(`${this.target}: ${(err as Error).message}`);
    }
  }

  /** `YYYYMMDD-HHMMSS.ffffff`, the Python client's suffix; the last digits count events of one millisecond. */
  private timeSuffix(): string {
    const now = new Date();
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    this.seq = (this.seq + 1) % 1000;
    return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}.${p(now.getUTCMilliseconds(), 3)}${p(this.seq, 3)}`;
  }
}
