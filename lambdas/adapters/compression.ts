// The compressing streams of the codecs part files are written with (lambdas/domain/compression.ts), from
// Node's zlib. zstd arrived in Node 22.15 (zlib.createZstdCompress): on an older Node it is refused,
// naming the setting, rather than silently written as something else.
import type { Transform, TransformOptions } from 'node:stream';
import * as zlib from 'node:zlib';
import { CODECS, type CodecName, type Compression, resolveCompression } from '../domain/compression';
import { InvalidConfigError } from '../domain/errors';

/** What zlib's zstd functions take; @types/node of Node 20 does not declare them. */
interface ZstdZlib {
  createZstdCompress?: (options?: { params?: Record<number, number> } & TransformOptions) => Transform;
  createZstdDecompress?: (options?: TransformOptions) => Transform;
  constants: { ZSTD_c_compressionLevel?: number };
}
const zstdZlib = zlib as unknown as ZstdZlib;

/** Whether this Node's zlib compresses and decompresses zstd (Node 22.15 and later). */
export function zstdAvailable(): boolean {
  return (
    typeof zstdZlib.createZstdCompress === 'function' && typeof zstdZlib.createZstdDecompress === 'function'
  );
}

/** The compression an export on this runtime uses for `setting` (unset: the default this Node can write). */
export function effectiveCompression(setting: Compression | undefined): Compression {
  return resolveCompression(setting, zstdAvailable());
}

/** Throws InvalidConfigError, naming the setting, when this Node cannot write the configured codec. */
export function requireCodec(codec: CodecName): void {
  if (codec === 'zstd' && !zstdAvailable()) {
    throw new InvalidConfigError(
      `pipeline.compression.codec is "zstd", but this Node.js (${process.version}) has no zstd: zlib gained it in Node 22.15. Run on Node 22.15 or later (the Lambda runtime is Node 24) or set pipeline.compression to { "codec": "gzip" }`,
    );
  }
}

/** Stream options zlib passes through to its Transform, though its typings leave them out. */
export interface StreamOptions {
  /** zlib's output chunk: a job runs until it has filled one. */
  readonly chunkSize: number;
  readonly writableHighWaterMark: number;
}

/** A stream that compresses what is written to it with `compression`'s codec and level. */
export function createCompressor(compression: Compression, stream: StreamOptions): Transform {
  const { codec, level } = compression;
  const { minLevel, maxLevel } = CODECS[codec];
  if (!Number.isInteger(level) || level < minLevel || level > maxLevel) {
    throw new InvalidConfigError(
      `pipeline.compression.level: ${codec} levels run from ${minLevel} to ${maxLevel}, got ${level}`,
    );
  }
  requireCodec(codec);
  if (codec === 'gzip') {
    const options: zlib.ZlibOptions & TransformOptions = { level, ...stream };
    return zlib.createGzip(options);
  }
  const levelParam = zstdZlib.constants.ZSTD_c_compressionLevel as number;
  return (zstdZlib.createZstdCompress as NonNullable<ZstdZlib['createZstdCompress']>)({
    params: { [levelParam]: level },
    ...stream,
  });
}
