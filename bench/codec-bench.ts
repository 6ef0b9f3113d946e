// The codec benchmark: the benchmark table's CSV, dumped once from PostgreSQL, compressed by each codec and
// level in a process of its own, exactly as the exporter feeds its compressor (1 MiB writes, 1 MiB output
// chunks), measuring that process's CPU. zstd needs Node 22.15 or later: when the running Node lacks it,
// every codec runs on the Node 24 of the optional dependency node-<platform>-<arch> (the Lambda runtime's
// major), so that all figures come from one Node; without that either, zstd is reported as unavailable.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createCompressor, zstdAvailable } from '../lambdas/adapters/compression';
import type { Compression } from '../lambdas/domain/compression';
import type { CodecRun } from './codec-report';
import { BENCH_TABLE } from './export-bench';

/** What is measured: gzip at its fastest and former default, zstd at its fastest and a few above. */
export const CODEC_CANDIDATES: readonly Compression[] = [
  { codec: 'gzip', level: 1 },
  { codec: 'gzip', level: 6 },
  { codec: 'zstd', level: 1 },
  { codec: 'zstd', level: 3 },
  { codec: 'zstd', level: 6 },
  { codec: 'zstd', level: 9 },
];

export interface CodecSpec {
  readonly file: string;
  readonly rows: number;
  readonly compression: Compression;
}

/** Writes the benchmark table as PostgreSQL's CSV (with its header) to `file`; returns its row count. */
export async function dumpCsv(pgUrl: string, file: string): Promise<number> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const copy = client.query(copyTo(`COPY ${BENCH_TABLE} TO STDOUT WITH (FORMAT csv, HEADER)`));
    await pipeline(copy, createWriteStream(file));
    return copy.rowCount;
  } finally {
    await client.end();
  }
}

const INPUT_BYTES = 1024 * 1024;

/** Runs inside the child: the file is read before measuring; only compressing it is measured. */
export async function measureCodec(spec: CodecSpec): Promise<CodecRun> {
  const csv = await readFile(spec.file);
  const compressor = createCompressor(spec.compression, {
    chunkSize: 1024 * 1024,
    writableHighWaterMark: 4 * INPUT_BYTES,
  });
  let compressedBytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      compressedBytes += chunk.length;
      done();
    },
  });
  const before = process.resourceUsage();
  const started = performance.now();
  await pipeline(
    async function* () {
      for (let at = 0; at < csv.length; at += INPUT_BYTES) yield csv.subarray(at, at + INPUT_BYTES);
    },
    compressor,
    sink,
  );
  const seconds = (performance.now() - started) / 1000;
  const after = process.resourceUsage();
  const cpuMicros = after.userCPUTime + after.systemCPUTime - (before.userCPUTime + before.systemCPUTime);
  return {
    compression: spec.compression,
    rows: spec.rows,
    rawBytes: csv.length,
    compressedBytes,
    cpuSeconds: cpuMicros / 1e6,
    seconds,
    node: process.version,
  };
}

/** The Node every codec runs on: this one if it has zstd, else the pinned Node 24 if installed, else this one. */
export function codecNode(): { readonly execPath: string; readonly zstd: boolean } {
  if (zstdAvailable()) return { execPath: process.execPath, zstd: true };
  try {
    const pkg = `node-${process.platform}-${process.arch}`;
    return { execPath: createRequire(import.meta.url).resolve(`${pkg}/bin/node`), zstd: true };
  } catch {
    return { execPath: process.execPath, zstd: false };
  }
}

const LAUNCHER = fileURLToPath(new URL('../bin/tally.js', import.meta.url));

/** One measurement in a fresh `tally bench-codec-worker` process on `execPath`. */
export function measureCodecInChild(spec: CodecSpec, execPath: string): Promise<CodecRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(execPath, [LAUNCHER, 'bench-codec-worker'], {
      env: { ...process.env, TALLY_BENCH_CODEC_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const name = `${spec.compression.codec}:${spec.compression.level}`;
      if (code !== 0) return reject(new Error(`the ${name} measurement failed (exit code ${code})`));
      try {
        resolve(JSON.parse(out) as CodecRun);
      } catch {
        reject(new Error(`the ${name} measurement printed no result`));
      }
    });
  });
}
