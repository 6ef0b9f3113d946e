// The audit mirror's writes against a loopback server that answers as S3 documents conditional writes
// (S3 User Guide, "How to prevent object overwrites with conditional writes"): `If-None-Match: *` is
// sent on every mirrored event, an existing key answers 412 and is taken as already written, a
// concurrent write's 409 is a retryable named error, and with a retention the Object Lock headers and a
// checksum (which S3 requires of a PutObject with a retention) go with the write.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Stage } from '../../lambdas/adapters/s3';
import { s3Schema } from '../../lambdas/config';

interface Seen {
  readonly method: string;
  readonly key: string;
  readonly headers: IncomingHttpHeaders;
}

let server: Server;
let endpoint: string;
const objects = new Map<string, string>();
const seen: Seen[] = [];
/** Keys whose next write answers 409, as S3 does while another conditional write is under way. */
const conflicting = new Set<string>();

function s3Error(code: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/bucket\//, '');
      seen.push({ method: req.method ?? '', key, headers: req.headers });
      const answer = (status: number, code?: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(code ? s3Error(code) : '');
      };
      if (req.method !== 'PUT') return answer(501, 'NotImplemented');
      if (conflicting.delete(key)) return answer(409, 'ConditionalRequestConflict');
      if (req.headers['if-none-match'] === '*' && objects.has(key)) return answer(412, 'PreconditionFailed');
      objects.set(key, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { etag: '"abc"' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function stage(extra: Record<string, unknown> = {}): S3Stage {
  return new S3Stage(
    s3Schema.parse({
      endpoint,
      region: 'eu-west-1',
      bucket: 'bucket',
      accessKeyId: 'test',
      secretAccessKey: 'test-secret',
      forcePathStyle: true,
      ...extra,
    }),
  );
}

describe('writing an audit event once', () => {
  it('sends If-None-Match: * and reports an existing key as already written, leaving it as it was', async () => {
    const s = stage();
    expect(await s.keepJson('tally/audit/job/t/e1.json', { n: 1 })).toBe('written');
    expect(await s.keepJson('tally/audit/job/t/e1.json', { n: 2 })).toBe('exists');
    expect(JSON.parse(objects.get('tally/audit/job/t/e1.json') ?? 'null')).toEqual({ n: 1 });
    const puts = seen.filter((r) => r.key === 'tally/audit/job/t/e1.json');
    expect(puts.map((r) => r.headers['if-none-match'])).toEqual(['*', '*']);
    expect(puts[0]?.headers['x-amz-object-lock-mode']).toBeUndefined();
  });

  it('fails with a retryable named error when another write to the key is under way', async () => {
    conflicting.add('tally/audit/job/t/e2.json');
    await expect(stage().keepJson('tally/audit/job/t/e2.json', { n: 1 })).rejects.toMatchObject({
      name: 'StageUnavailableError',
      message: expect.stringMatching(/409 ConditionalRequestConflict.*retry/),
    });
  });

  it('locks the event until the retention ends when the stage has one', async () => {
    const before = Date.now();
    await stage({ auditRetention: { mode: 'COMPLIANCE', days: 10 } }).keepJson(
      'tally/audit/job/t/e3.json',
      {},
    );
    const put = seen.find((r) => r.key === 'tally/audit/job/t/e3.json');
    expect(put?.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
    const until = Date.parse(String(put?.headers['x-amz-object-lock-retain-until-date']));
    expect(until - before).toBeGreaterThanOrEqual(10 * 86_400_000 - 1000);
    expect(until - before).toBeLessThan(10 * 86_400_000 + 60_000);
    // S3 takes a retention only with a Content-MD5 or x-amz-checksum header on the request.
    const checksums = Object.keys(put?.headers ?? {}).filter(
      (h) => h === 'content-md5' || h.startsWith('x-amz-checksum-'),
    );
    expect(checksums.length).toBeGreaterThan(0);
  });
});
