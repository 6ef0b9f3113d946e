// Splits one CSV stream (header first) into gzip part files uploaded to the stage as they are written.
// A part ends only at a record boundary, and every part starts with the header, so each loads on its own.
import { once } from 'node:events';
import { pipeline, Transform, type TransformOptions } from 'node:stream';
import { createGzip, type Gzip, type ZlibOptions } from 'node:zlib';
import type { Stage, StagedFile } from '../ports';

const QUOTE = 0x22;
const LF = 0x0a;
/** Every byte the scanner acts on is below this. */
const BELOW = QUOTE + 1;

/** The key of part `index` under a prefix: fixed width, so a retry writes the same keys again. */
export function partKey(keyPrefix: string, index: number): string {
  return `${keyPrefix.replace(/\/+$/, '')}/part-${String(index).padStart(5, '0')}.csv.gz`;
}

/** The prefix every part key of an export starts with. */
export function partPrefix(keyPrefix: string): string {
  return `${keyPrefix.replace(/\/+$/, '')}/part-`;
}

/**
 * Finds record ends in CSV as PostgreSQL writes it: a record ends at a newline outside quotes, and a
 * quoted field may hold newlines and doubled quotes. State carries over from one chunk to the next.
 */
export class RecordScanner {
  /** 1 inside a quoted field. Every quote flips it, so a doubled quote leaves it as it was. */
  private inQuotes = 0;

  /**
   * Counts record ends in `buf` from `start`. With `stopAfterFirst` it returns just after the first one;
   * `end` is the offset after the last byte scanned.
   */
  scan(buf: Buffer, start: number, stopAfterFirst: boolean): { records: number; end: number } {
    if (stopAfterFirst) return this.scanToFirst(buf, start);
    // One plain pass over the bytes: V8 compiles it to a tight loop, several times faster than calling
    // indexOf for every quote (a JSON column alone holds a dozen of them per row). Quote and newline are
    // both below BELOW, so most bytes are passed over with one comparison.
    const len = buf.length;
    let inQuotes = this.inQuotes;
    let records = 0;
    for (let i = start; i < len; i++) {
      const byte = buf[i] as number;
      if (byte < BELOW) {
        if (byte === QUOTE) inQuotes ^= 1;
        else if (byte === LF) records += inQuotes ^ 1;
      }
    }
    this.inQuotes = inQuotes;
    return { records, end: len };
  }

  private scanToFirst(buf: Buffer, start: number): { records: number; end: number } {
    const len = buf.length;
    let inQuotes = this.inQuotes;
    for (let i = start; i < len; i++) {
      const byte = buf[i] as number;
      if (byte === QUOTE) {
        inQuotes ^= 1;
      } else if (byte === LF && inQuotes === 0) {
        this.inQuotes = 0;
        return { records: 1, end: i + 1 };
      }
    }
    this.inQuotes = inQuotes;
    return { records: 0, end: len };
  }
}

/** zlib's output chunk: larger than its 16 KiB default, so fewer hops between the zlib thread and JS. */
const GZIP_CHUNK_BYTES = 64 * 1024;
/**
 * Raw CSV buffered ahead of gzip before a write waits, so the next chunk is read and scanned while this
 * one is compressed; it also bounds the memory of a part.
 */
const GZIP_BUFFER_BYTES = 1024 * 1024;

/** One part file: raw CSV in, gzip out, streamed into `stage.upload` as it is produced. */
class GzipPart {
  rows = 0;
  rawBytes = 0;
  compressedBytes = 0;
  private readonly gzip: Gzip;
  private readonly uploaded: Promise<unknown>;
  /** Rejects when the upload fails (or, wrongly, ends before its body): stops a writer waiting on drain. */
  private readonly failed: Promise<never>;

  constructor(
    stage: Stage,
    readonly key: string,
    level: number,
  ) {
    // zlib passes stream options through to its Transform, though its typings leave them out.
    const options: ZlibOptions & TransformOptions = {
      level,
      chunkSize: GZIP_CHUNK_BYTES,
      writableHighWaterMark: GZIP_BUFFER_BYTES,
    };
    this.gzip = createGzip(options);
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.compressedBytes += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline, unlike pipe, destroys the body when gzip fails, so the upload sees an error and aborts.
    pipeline(this.gzip, counter, () => {});
    this.uploaded = stage.upload(key, counter, 'application/gzip');
    this.failed = this.uploaded.then(() => {
      throw new Error(`the upload of ${key} ended before its data did`);
    });
    this.failed.catch(() => {});
  }

  async write(data: Buffer): Promise<void> {
    this.rawBytes += data.length;
    if (this.gzip.write(data)) return;
    const drained = once(this.gzip, 'drain');
    drained.catch(() => {});
    await Promise.race([drained, this.failed]);
  }

  async finish(): Promise<StagedFile> {
    this.gzip.end();
    await this.uploaded;
    return { key: this.key, rows: this.rows, rawBytes: this.rawBytes, compressedBytes: this.compressedBytes };
  }

  /** Fails the body so the upload aborts, and waits until it has. */
  async abort(reason: Error): Promise<void> {
    this.gzip.destroy(reason);
    await this.uploaded.catch(() => {});
  }
}

export interface PartOptions {
  readonly keyPrefix: string;
  readonly maxFileBytes: number;
  readonly gzipLevel: number;
}

/**
 * Writes a CSV stream whose first record is the header into gzip parts under `keyPrefix`. Part objects
 * left by an earlier attempt are deleted first; on failure the parts written so far are deleted too, so
 * an export is either complete or absent. Reading the next chunk waits for the upload (backpressure).
 */
export async function writeCsvParts(
  csv: AsyncIterable<Buffer>,
  stage: Stage,
  options: PartOptions,
): Promise<StagedFile[]> {
  await deleteParts(stage, options.keyPrefix);
  const scanner = new RecordScanner();
  const headerChunks: Buffer[] = [];
  let header: Buffer | null = null;
  const files: StagedFile[] = [];
  let part: GzipPart | null = null;

  const openPart = async (): Promise<GzipPart> => {
    const opened = new GzipPart(stage, partKey(options.keyPrefix, files.length), options.gzipLevel);
    part = opened;
    await opened.write(header ?? Buffer.alloc(0));
    return opened;
  };

  try {
    for await (const chunk of csv) {
      let offset = 0;
      if (header === null) {
        const first = scanner.scan(chunk, 0, true);
        headerChunks.push(chunk.subarray(0, first.end));
        if (first.records === 0) continue;
        header = Buffer.concat(headerChunks);
        offset = first.end;
      }
      while (offset < chunk.length) {
        const current: GzipPart = part ?? (await openPart());
        if (current.compressedBytes < options.maxFileBytes) {
          current.rows += scanner.scan(chunk, offset, false).records;
          await current.write(offset === 0 ? chunk : chunk.subarray(offset));
          break;
        }
        // Full: write up to the end of the current record, then close this part.
        const { records, end } = scanner.scan(chunk, offset, true);
        current.rows += records;
        await current.write(chunk.subarray(offset, end));
        offset = end;
        if (records > 0) {
          files.push(await current.finish());
          part = null;
        }
      }
    }
    if (header === null) throw new Error('the CSV stream ended without a header line');
    // An empty slice still yields one file holding only the header, so a load always has a file.
    const last: GzipPart = part ?? (await openPart());
    part = null;
    files.push(await last.finish());
    return files;
  } catch (err) {
    const unfinished = part as GzipPart | null;
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
