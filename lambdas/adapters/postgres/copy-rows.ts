// Where the records of a `COPY ... TO STDOUT` stream end, read from the protocol rather than the CSV:
// PostgreSQL sends each row, the header line included, as one CopyData message, so the end of every
// message is the end of a record. Knowing that, the part writer counts rows and closes a part on a record
// boundary without reading a byte of the CSV, whatever quoted newlines the values hold.
import type { CopyToStreamQuery } from 'pg-copy-streams';

/** Record ends of one stream, as byte offsets from its start, consumed in order by the part writer. */
export interface RecordEnds {
  /** Consumes the record ends at or before `offset` and returns how many there were. */
  takeUpTo(offset: number): number;
  /** The first record end not yet consumed, or null when none has arrived. */
  next(): number | null;
  /** The last record end consumed (0 before any): where the data read so far ends if it ends on a record. */
  consumed(): number;
}

/**
 * The parts of pg-copy-streams' COPY TO reader this relies on (version pinned in package.json): message
 * content goes to `_copyDataChunks.push` piece by piece, and `_unreadMessageContentLength` is already 0 when
 * the last piece of a message is pushed.
 */
interface CopyToInternals {
  _copyDataChunks?: { push(data: Buffer): void } | null;
  _unreadMessageContentLength?: number;
}

/** A queue of offsets that grows at the back and is consumed at the front. */
export class OffsetQueue implements RecordEnds {
  private items: number[] = [];
  private head = 0;
  private last = 0;

  add(offset: number): void {
    this.items.push(offset);
  }

  takeUpTo(offset: number): number {
    const start = this.head;
    while (this.head < this.items.length && (this.items[this.head] as number) <= offset) this.head++;
    const taken = this.head - start;
    if (taken > 0) this.last = this.items[this.head - 1] as number;
    // Drop the consumed front now and then, so the queue holds only what the reader has not reached.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  consumed(): number {
    return this.last;
  }

  next(): number | null {
    return this.head < this.items.length ? (this.items[this.head] as number) : null;
  }
}

/**
 * Follows the message framing of a COPY TO stream that has not been submitted yet. Throws, naming the
 * library, if pg-copy-streams no longer has the shape this depends on, so an upgrade fails loudly.
 */
export function trackRecordEnds(copy: CopyToStreamQuery): RecordEnds {
  const internals = copy as unknown as CopyToInternals;
  const chunks = internals._copyDataChunks;
  if (chunks === null || chunks === undefined || typeof chunks.push !== 'function') {
    throw new Error('pg-copy-streams changed: its COPY TO reader has no _copyDataChunks buffer to follow');
  }
  if (typeof internals._unreadMessageContentLength !== 'number') {
    throw new Error('pg-copy-streams changed: its COPY TO reader has no _unreadMessageContentLength');
  }
  const ends = new OffsetQueue();
  let received = 0;
  const push = chunks.push.bind(chunks);
  chunks.push = (data: Buffer) => {
    received += data.length;
    if (internals._unreadMessageContentLength === 0) ends.add(received);
    push(data);
  };
  return ends;
}
