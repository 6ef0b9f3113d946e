// The audit chain's tail object, `<prefix>/audit/tail.json`, and the one way it changes: a conditional
// write of what was read (compare-and-swap), retried with backoff when another writer came first.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TallyConfig } from '../config';
import { type AuditEvent, chainOrder } from '../domain/audit';
import type { AnchorEntry, CheckpointRef } from '../domain/checkpoint';
import { StageUnavailableError } from '../domain/errors';
import type { Stage } from '../ports';

/** What reading and changing the tail needs: where it is (the S3 prefix) and the stage. */
export interface TailDeps {
  readonly config: Pick<TallyConfig, 's3'>;
  readonly ports: { readonly stage: Stage };
}

/**
 * The chain's tail object, `<prefix>/audit/tail.json`: where the chain ends and the sealed events the
 * table does not hold yet. Appending an event and recording that it must be delivered are one conditional
 * write of this object, so two writers never link to the same event and a writer that dies between steps
 * loses nothing; it holds no more than what is undelivered.
 */
export interface Tail {
  /** The chain's last event, delivered or not: the next one links to its hash. */
  readonly eventId: string;
  readonly rowHash: string;
  /** Sealed events the audit table may not hold yet, in chain order. */
  readonly undelivered: readonly AuditEvent[];
  /**
   * The writer delivering them, until when (milliseconds since the epoch): one writer at a time inserts,
   * so two replaying the same events cannot both insert one. Null when no writer is.
   */
  readonly delivery: { readonly by: string; readonly until: number } | null;
  /**
   * Sealed events no checkpoint anchors yet, in chain order (`anchor.ts`); absent in a tail written
   * before checkpoints were.
   */
  readonly unanchored?: readonly AnchorEntry[];
  /** The newest checkpoint written; absent before the first. */
  readonly checkpoint?: CheckpointRef;
}

/** Conditional writes of the tail tried before the step fails as retryable: other writers came first. */
const TAIL_ATTEMPTS = 12;
/** The first wait after a conflicting write, doubled each time up to `BACKOFF_MAX_MS`, with full jitter. */
const BACKOFF_MS = 20;
const BACKOFF_MAX_MS = 1000;
/** What a change of the tail writes (nothing when `next` is absent) and gives back. */
export interface TailChange<R> {
  readonly next?: Tail;
  readonly result: R;
}

/**
 * Reads the tail with its ETag, asks `change` what it should become, and writes that only if no other
 * writer changed it meanwhile (`If-Match`, or `If-None-Match: *` for the first tail); after a conflict it
 * waits a jittered, growing while and starts again from a fresh read, a bounded number of times.
 */
export async function updateTail<R>(
  deps: TailDeps,
  what: string,
  change: (tail: Tail | null) => Promise<TailChange<R>>,
): Promise<R> {
  const { stage } = deps.ports;
  for (let attempt = 1; attempt <= TAIL_ATTEMPTS; attempt++) {
    const read = await readTail(deps);
    const { next, result } = await change(read.tail);
    if (next === undefined) return result;
    const written = await stage.putJsonIf(
      tailKey(deps),
      next,
      read.etag === null ? null : { etag: read.etag },
    );
    if (written !== 'conflict') {
      if (read.legacy.length > 0) await stage.delete(read.legacy);
      return result;
    }
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** (attempt - 1));
    await sleep(Math.random() * ceiling);
  }
  throw new StageUnavailableError(
    `other audit writers changed the audit chain's tail (${tailKey(deps)} in bucket ${stage.bucket}) first ${TAIL_ATTEMPTS} times in a row while ${what}; the step will retry`,
  );
}

/**
 * The tail as it is now, with its ETag (null when there is none). A tail written before it carried its
 * undelivered events had them kept one object each under `pending/`: those are read into it, and `legacy`
 * names them for removal once the tail that carries them is written.
 */
export async function readTail(
  deps: TailDeps,
): Promise<{ tail: Tail | null; etag: string | null; legacy: string[] }> {
  const { stage } = deps.ports;
  const read = await stage.getJsonTagged<Partial<Tail> & Pick<Tail, 'eventId' | 'rowHash'>>(tailKey(deps));
  if (read?.value.undelivered) {
    return {
      tail: { ...read.value, delivery: read.value.delivery ?? null } as Tail,
      etag: read.etag,
      legacy: [],
    };
  }
  const legacy = await stage.list(legacyPendingFolder(deps));
  const pending: AuditEvent[] = [];
  for (const key of legacy) {
    const event = await stage.getJson<AuditEvent>(key);
    if (event) pending.push(event);
  }
  const undelivered = chainOrder(pending);
  const last = undelivered.at(-1) ?? read?.value;
  const tail = last ? { eventId: last.eventId, rowHash: last.rowHash, undelivered, delivery: null } : null;
  return { tail, etag: read?.etag ?? null, legacy };
}

/** Where the writer kept each undelivered event before the tail carried them. */
function legacyPendingFolder(deps: TailDeps): string {
  return `${deps.config.s3.prefix}/audit/pending/`;
}

export function tailKey(deps: TailDeps): string {
  return `${deps.config.s3.prefix}/audit/tail.json`;
}
