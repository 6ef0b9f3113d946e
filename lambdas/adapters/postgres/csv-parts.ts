// Splits one CSV stream (header first) into compressed part files (gzip or zstd) uploaded to the stage as
// they are written.
// A part ends only at a record boundary, and every part starts with the header, so each loads on its own.
// Where records end comes from the caller (for PostgreSQL, from the COPY protocol: see copy-rows.ts).
import { once } from 'node:events';
import { pipeline, Transform } from 'node:stream';
import { CODECS, type Compression } from '../../domain/compression';
import type { Stage, StagedFile } from '../../ports';
import { createCompressor, requireCodec } from '../compression';
import type { RecordEnds } from './copy-rows';

/**
 * The key of part `index` under a prefix, ending in its codec's extension (`.csv.gz`, `.csv.zst`): fixed
 * width, so a retry writes the same keys again.
 */
export function partKey(keyPrefix: string, index: number, codec: Compression['codec'] = 'gzip'): string {
  return `${keyPrefix.replace(/\/+$/, '')}/part-${String(index).padStart(5, '0')}.csv${CODECS[codec].extension}`;
}

/** The prefix every part key of an export starts with, whatever its codec. */
export function partPrefix(keyPrefix: string): string {
  return `${keyPrefix.replace(/\/+$/, '')}/part-`;
}

/**
 * Raw CSV gathered into one write to the compressor. zlib compresses each write as jobs on a worker thread, and each
 * job needs the JS thread to hand over the next one; a job of a megabyte keeps the worker busy while JS
 * reads and frames the next megabyte, where many small writes would leave it waiting on JS.
 */
const INPUT_BYTES = 1024 * 1024;
/** zlib's output chunk (16 KiB by default): a job runs until it has filled one. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Raw CSV queued ahead of the compressor before a write waits for it to drain: several inputs, so the worker is
 * rarely idle while JS gathers the next. With the input being gathered, it bounds a part's memory.
 */
const BUFFER_BYTES = 4 * INPUT_BYTES;

/** One part file: raw CSV in, compressed out, streamed into `stage.upload` as it is produced. */
class CompressedPart {
  rows = 0;
  rawBytes = 0;
  compressedBytes = 0;
  private readonly compressor: Transform;
  private readonly uploaded: Promise<unknown>;
  /** Rejects when the upload fails (or, wrongly, ends before its body): stops a writer waiting on drain. */
  private readonly failed: Promise<never>;
  /** Written but not yet handed to gzip, with its size: see INPUT_BYTES. */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;

  constructor(
    stage: Stage,
    readonly key: string,
    compression: Compression,
  ) {
    this.compressor = createCompressor(compression, {
      chunkSize: CHUNK_BYTES,
      writableHighWaterMark: BUFFER_BYTES,
    });
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.compressedBytes += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline, unlike pipe, destroys the body when compression fails, so the upload sees an error and aborts.
    pipeline(this.compressor, counter, () => {});
    this.uploaded = stage.upload(key, counter, CODECS[compression.codec].contentType);
    this.failed = this.uploaded.then(() => {
      throw new Error(`the upload of ${key} ended before its data did`);
    });
    this.failed.catch(() => {});
  }

  async write(data: Buffer): Promise<void> {
    this.rawBytes += data.length;
    this.gathered.push(data);
    this.gatheredBytes += data.length;
    if (this.gatheredBytes < INPUT_BYTES) return;
    if (this.compressor.write(this.takeGathered())) return;
    const drained = once(this.compressor, 'drain');
    drained.catch(() => {});
    await Promise.race([drained, this.failed]);
  }

  async finish(): Promise<StagedFile> {
    this.compressor.end(this.takeGathered());
    await this.uploaded;
    return { key: this.key, rows: this.rows, rawBytes: this.rawBytes, compressedBytes: this.compressedBytes };
  }

  private takeGathered(): Buffer {
    const input = this.gathered.length === 1 ? (this.gathered[0] as Buffer) : Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    return input;
  }

  /** Fails the body so the upload aborts, and waits until it has. */
  async abort(reason: Error): Promise<void> {
    this.compressor.destroy(reason);
    await this.uploaded.catch(() => {});
  }
}

export interface PartOptions {
  readonly keyPrefix: string;
  readonly maxFileBytes: number;
  readonly compression: Compression;
}

/**
 * Writes a CSV stream whose first record is the header into compressed parts under `keyPrefix`, using `ends` to
 * know where records end. Part objects left by an earlier attempt are deleted first; on failure the parts
 * written so far are deleted too, so an export is either complete or absent. Reading the next chunk waits
 * for the upload (backpressure).
 */
export async function writeCsvParts(
  csv: AsyncIterable<Buffer>,
  ends: RecordEnds,
  stage: Stage,
  options: PartOptions,
): Promise<StagedFile[]> {
  // Before anything is deleted or written: a codec this Node lacks fails the export by the setting's name.
  requireCodec(options.compression.codec);
  await deleteParts(stage, options.keyPrefix);
  const headerChunks: Buffer[] = [];
  let header: Buffer | null = null;
  const files: StagedFile[] = [];
  let part: CompressedPart | null = null;
  /** Stream offset of the first byte of the current chunk. */
  let position = 0;

  const openPart = async (): Promise<CompressedPart> => {
    const key = partKey(options.keyPrefix, files.length, options.compression.codec);
    const opened = new CompressedPart(stage, key, options.compression);
    part = opened;
    await opened.write(header ?? Buffer.alloc(0));
    return opened;
  };

  try {
    for await (const chunk of csv) {
      const chunkEnd = position + chunk.length;
      let offset = 0;
      if (header === null) {
        const first = ends.next();
        if (first === null || first > chunkEnd) {
          headerChunks.push(chunk);
          position = chunkEnd;
          continue;
        }
        ends.takeUpTo(first);
        offset = first - position;
        headerChunks.push(chunk.subarray(0, offset));
        header = Buffer.concat(headerChunks);
      }
      while (offset < chunk.length) {
        const current: CompressedPart = part ?? (await openPart());
        if (current.compressedBytes < options.maxFileBytes) {
          current.rows += ends.takeUpTo(chunkEnd);
          await current.write(offset === 0 ? chunk : chunk.subarray(offset));
          break;
        }
        // Full: write up to the end of the current record, then close this part.
        const end = ends.next();
        if (end === null || end > chunkEnd) {
          await current.write(chunk.subarray(offset));
          break;
        }
        current.rows += ends.takeUpTo(end);
        await current.write(chunk.subarray(offset, end - position));
        offset = end - position;
        files.push(await current.finish());
        part = null;
      }
      position = chunkEnd;
    }
    if (header === null) throw new Error('the CSV stream ended without a header line');
    if (ends.consumed() !== position || ends.next() !== null) {
      throw new Error(`the CSV stream ended inside a record, at byte ${position}`);
    }
    // An empty slice still yields one file holding only the header, so a load always has a file.
    const last: CompressedPart = part ?? (await openPart());
    part = null;
    files.push(await last.finish());
    return files;
  } catch (err) {
    const unfinished = part as CompressedPart | null;
    if (unfinished) await unfinished.abort(err instanceof Error ? err : new Error(String(err)));
    await stage.delete(files.map((f) => f.key)).catch(() => {});
    throw err;
  }
}

/** Deletes every part object under the prefix (e.g. from an earlier attempt that wrote more parts). */
export async function deleteParts(stage: Stage, keyPrefix: string): Promise<void> {
  const stale = await stage.list(partPrefix(keyPrefix));
  if (stale.length > 0) await stage.delete(stale);
}
