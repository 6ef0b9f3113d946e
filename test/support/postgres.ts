// Shared by the PostgreSQL export tests: configurations for the embedded servers, and reading exported
// part files back from S3 as parsed CSV records (NULL kept apart from the empty string).
import * as zlib from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import pg, { escapeIdentifier } from 'pg';
import { inject } from 'vitest';
import { type PostgresConfig, postgresSchema, type S3Config, s3Schema } from '../../lambdas/config';

export function pgConfig(overrides: Record<string, unknown> = {}): PostgresConfig {
  return postgresSchema.parse({ url: inject('stack').postgres.url, connectTimeoutMs: 5_000, ...overrides });
}

export function s3Config(overrides: Record<string, unknown> = {}): S3Config {
  const { endpoint, region, bucket, accessKeyId, secretAccessKey, forcePathStyle } = inject('stack').s3;
  return s3Schema.parse({
    endpoint,
    region,
    bucket,
    accessKeyId,
    secretAccessKey,
    forcePathStyle,
    ...overrides,
  });
}

export async function pgClient(url: string = inject('stack').postgres.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Runs `use` on a connection of its own to `url`, closed afterwards. */
export async function onDatabase<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await pgClient(url);
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates (or re-creates) a database of its own for one test file and returns its url. The upper bound
 * of an open window waits for every transaction open in its database, so tests that assert where that
 * bound falls must not share a database with other files' writers.
 */
export async function freshDatabase(name: string): Promise<string> {
  const admin = await pgClient();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(inject('stack').postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await res.Body?.transformToByteArray()) ?? []);
}

export interface ParsedPart {
  readonly header: string[];
  readonly records: (string | null)[][];
  /** The decompressed bytes, to look at record boundaries directly. */
  readonly text: string;
}

/** zlib's zstd (Node 22.15 and later), which @types/node of Node 20 does not declare. */
const zstdSync = zlib as unknown as { zstdDecompressSync?: (data: Buffer) => Buffer };

/** A part's bytes decompressed by their magic number: gzip, or zstd where this Node has it. */
function decompressPart(packed: Buffer): Buffer {
  if (packed.length >= 4 && packed.readUInt32LE(0) === 0xfd2fb528) {
    if (zstdSync.zstdDecompressSync === undefined) throw new Error(`zstd part on Node ${process.version}`);
    return zstdSync.zstdDecompressSync(packed);
  }
  return zlib.gunzipSync(packed);
}

/**
 * Parses one compressed CSV part (gzip or zstd): an unquoted empty field is NULL, a quoted one ("") the empty string. Telling
 * them apart costs csv-parse a cast per field (slow), so volume tests that only count may skip it.
 */
export function parsePart(packed: Buffer, options: { readonly nulls?: boolean } = {}): ParsedPart {
  const text = decompressPart(packed).toString('utf8');
  const rows = parse(text, {
    record_delimiter: '\n',
    ...(options.nulls === false
      ? {}
      : {
          cast: (value: string, context: { quoting: boolean }) =>
            value === '' && !context.quoting ? null : value,
        }),
  }) as (string | null)[][];
  const [header, ...records] = rows;
  return { header: (header ?? []).map(String), records, text };
}

export async function readParts(
  client: S3Client,
  bucket: string,
  keys: readonly string[],
  options: { readonly nulls?: boolean } = {},
): Promise<ParsedPart[]> {
  return Promise.all(keys.map(async (key) => parsePart(await getObject(client, bucket, key), options)));
}

/** Records of parts as objects keyed by the header. */
export function recordsAsObjects(parts: readonly ParsedPart[]): Record<string, string | null>[] {
  return parts.flatMap((p) =>
    p.records.map((r) => Object.fromEntries(p.header.map((h, i) => [h, r[i] ?? null]))),
  );
}
