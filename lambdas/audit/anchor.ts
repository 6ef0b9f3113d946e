// Anchors the audit chain outside the warehouse: once events are delivered, the writer writes a
// checkpoint naming each of them by id and hash under `<prefix>/audit/checkpoints/`, once (a conditional
// write: an existing checkpoint is never replaced; with Object Lock, S3 also keeps it for the mirror's
// retention). Verification (`verify.ts`) compares the table against these.
import { readFile } from 'node:fs/promises';
import type { AuditConfig, TallyConfig } from '../config';
import type { StepDeps } from '../deps';
import { buildCheckpoint, type Checkpoint, checkpointHead, refOf } from '../domain/checkpoint';
import { InvalidConfigError } from '../domain/errors';
import { readTail, type TailDeps, updateTail } from './tail';

/** The most events one checkpoint names: a checkpoint stays a few hundred KB at most. */
export const MAX_CHECKPOINT_EVENTS = 1000;

/** Where checkpoint `seq` is written: numbered, so the next one is found without listing. */
export function checkpointKey(deps: TailDeps, seq: number): string {
  return `${deps.config.s3.prefix}/audit/checkpoints/${String(seq).padStart(12, '0')}.json`;
}

/** Where verification records the last checkpoint it verified, to start from there next time. */
export function verifiedKey(deps: TailDeps): string {
  return `${deps.config.s3.prefix}/audit/verified.json`;
}

export function readCheckpoint(deps: TailDeps, seq: number): Promise<Checkpoint | null> {
  return deps.ports.stage.getJson<Checkpoint>(checkpointKey(deps, seq));
}

const keyFiles = new Map<string, Promise<Buffer>>();

/**
 * The key checkpoints are signed with, if one is configured: `audit.checkpointKey` (in AWS, filled from
 * its secret) or the file `audit.checkpointKeyFile`. Errors name the setting or the file, never the key.
 */
export function checkpointSecret(config: Pick<TallyConfig, 'audit'>): Promise<Buffer | undefined> {
  const audit: AuditConfig | undefined = config.audit;
  if (audit?.checkpointKey !== undefined) return Promise.resolve(Buffer.from(audit.checkpointKey, 'utf8'));
  const file = audit?.checkpointKeyFile;
  if (file === undefined) return Promise.resolve(undefined);
  let key = keyFiles.get(file);
  if (key === undefined) {
    key = readKeyFile(file);
    keyFiles.set(file, key);
    key.catch(() => keyFiles.delete(file));
  }
  return key;
}

/**
 * The keys a checkpoint may be signed with: the current one first (it signs), then
 * `audit.previousCheckpointKeys`, the keys it replaced; none when checkpoints are not signed.
 */
export async function checkpointKeys(config: Pick<TallyConfig, 'audit'>): Promise<Buffer[]> {
  const current = await checkpointSecret(config);
  if (current === undefined) return [];
  return [current, ...(config.audit?.previousCheckpointKeys ?? []).map((k) => Buffer.from(k, 'utf8'))];
}

async function readKeyFile(file: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InvalidConfigError(`audit.checkpointKeyFile ${file} cannot be read (${code})`);
  }
  const key = text.replace(/\r?\n$/, '');
  if (Buffer.byteLength(key) < 32) {
    throw new InvalidConfigError(
      `audit.checkpointKeyFile ${file} holds fewer than 32 bytes: use a long random key (openssl rand -hex 32)`,
    );
  }
  return Buffer.from(key, 'utf8');
}

/**
 * Writes the checkpoints the delivered events call for: one per `audit.checkpointEvery` events, and, when
 * `endsRun`, one for whatever was delivered since the last. A checkpoint another writer wrote first under
 * the same number is taken as written. Never fails the write it follows: what is not anchored now stays
 * in the tail and is anchored by the next write.
 */
export async function anchorDelivered(deps: StepDeps, options: { readonly endsRun: boolean }): Promise<void> {
  try {
    // Bounded: a long backlog is anchored a few checkpoints at a time, the rest by later writes.
    for (let round = 0; round < 10; round++) {
      const { tail } = await readTail(deps);
      if (!tail) return;
      const pending = new Set(tail.undelivered.map((e) => e.eventId));
      const unanchored = tail.unanchored ?? [];
      let delivered = 0;
      while (delivered < unanchored.length && !pending.has(unanchored[delivered]?.eventId ?? '')) delivered++;
      if (delivered === 0 || (delivered < deps.config.audit.checkpointEvery && !options.endsRun)) return;
      const events = unanchored.slice(0, Math.min(delivered, MAX_CHECKPOINT_EVENTS));
      const first = events[0]?.eventId;
      const built = buildCheckpoint(
        tail.checkpoint ?? null,
        events,
        deps.now(),
        await checkpointSecret(deps.config),
      );
      let anchored: Checkpoint = built;
      if ((await deps.ports.stage.keepJson(checkpointKey(deps, built.seq), built)) === 'exists') {
        const existing = await readCheckpoint(deps, built.seq);
        if (!existing || existing.events[0]?.eventId !== first) {
          deps.logger.warn(
            `audit checkpoint ${built.seq} (${checkpointKey(deps, built.seq)}) already exists and anchors other events than the chain's tail lists; no checkpoint written: run tally audit verify`,
          );
          return;
        }
        anchored = existing;
      }
      const head = checkpointHead(anchored).eventId;
      await updateTail(deps, 'recording an audit checkpoint', async (current) => {
        if (!current || (current.checkpoint?.seq ?? 0) >= anchored.seq) return { result: undefined };
        const list = current.unanchored ?? [];
        const through = list.findIndex((e) => e.eventId === head);
        return {
          next: { ...current, unanchored: list.slice(through + 1), checkpoint: refOf(anchored) },
          result: undefined,
        };
      });
    }
  } catch (err) {
    deps.logger.warn(
      `could not write an audit checkpoint (${(err as Error).name}: ${(err as Error).message}); the next audit write anchors these events`,
    );
  }
}
