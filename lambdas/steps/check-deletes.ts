// CheckDeletes: after the values of an incremental window are verified, and when the table's cadence says
// a check is due, the keys alone are compared between the source and the target by segment checksums
// (`domain/reconcile.ts`, bisecting only the segments that differ). A key the target holds below the
// window's bound that the source no longer holds anywhere, in one snapshot, was deleted at the source; the
// table's `deletes` mode reports it, marks it, or deletes it from the target. The `deletes` audit event
// is written with the table's success (`write-audit.ts`).
import type { StepDeps } from '../deps';
import { clip } from '../domain/alert';
import { decodeFields, encodeFields } from '../domain/canonical';
import {
  boundKeys,
  DEFAULT_DELETE_CHECK_EVERY,
  type DeleteMode,
  deleteCheckDue,
  INCOMPLETE_CHECK,
  MAX_KEYS_PER_CHECK,
  parseDuration,
} from '../domain/deletes';
import { DeleteCheckError, InvalidInputError } from '../domain/errors';
import { describeKey } from '../domain/reconcile';
import { qualifiedName } from '../domain/table';
import type { Slice } from '../ports';
import { compareValues } from '../reconcile/compare';
import { deletesIntentKey } from './chunks';
import { resolvedTable } from './columns';
import type { DeletesOutput, TableEvent } from './contract';

/** How much of a described key the state and the event keep. */
const KEY_CHARS = 200;

/** The table's delete settings, its configuration's or the defaults. */
export function deleteSettings(
  deps: Pick<StepDeps, 'config'>,
  table: string,
): { mode: DeleteMode; every: string; everyMs: number } {
  const spec = deps.config.tables.find((t) => qualifiedName(t) === table);
  const every = spec?.deleteCheckEvery ?? DEFAULT_DELETE_CHECK_EVERY;
  return { mode: spec?.deletes ?? 'off', every, everyMs: parseDuration(every) };
}

/** What a soft or propagating check keeps before it changes the target: the keys it found gone. */
interface DeletesIntent {
  readonly bound: string;
  readonly keys: readonly string[];
}

/**
 * Marks (soft) or deletes (propagate) the rows of `found` in the target; returns the keys this check found
 * gone and how many rows it changed. The keys are kept in the stage first: an attempt whose UPDATE or DELETE
 * committed but whose answer was lost (the Lambda stopped, the connection broke) leaves them, and its retry,
 * whose comparison no longer sees them (a marked row is out of it, a deleted one gone), takes them up again,
 * changes what is left of them and counts all of them, instead of an audit event saying none were handled.
 */
async function handleKeys(
  deps: StepDeps,
  work: TableEvent['state']['work'],
  table: Awaited<ReturnType<typeof resolvedTable>>,
  slice: Slice,
  found: readonly string[],
  mode: 'soft' | 'propagate',
): Promise<{ gone: string[]; handled: number }> {
  const key = deletesIntentKey(deps, work);
  const earlier = await deps.ports.stage.getJson<DeletesIntent>(key);
  const bound = slice.kind === 'window' ? (slice.window.to ?? '') : '';
  const resumed = earlier !== null && earlier.bound === bound;
  const keys = resumed ? [...new Set([...earlier.keys, ...found])] : [...found];
  if (keys.length === 0) return { gone: keys, handled: 0 };
  await deps.ports.stage.putJson(key, { bound, keys } satisfies DeletesIntent);
  const now =
    mode === 'soft'
      ? await deps.ports.warehouse.markDeleted(table, slice, keys)
      : await deps.ports.warehouse.deleteKeys(table, slice, keys);
  if (!resumed) return { gone: keys, handled: now };
  deps.logger.info(
    `${work.table}: deletes: an earlier attempt of this check began on ${earlier.keys.length} key(s); ${now} row(s) were left to ${mode === 'soft' ? 'mark' : 'delete'}`,
  );
  // Every key kept is handled now: those this attempt found still there, and those an earlier attempt
  // marked or deleted, which the comparison no longer sees. Each was in the target when found.
  return { gone: keys, handled: keys.length };
}

export async function checkDeletes({ state }: TableEvent, deps: StepDeps): Promise<DeletesOutput> {
  const { work } = state;
  const { mode, every, everyMs } = deleteSettings(deps, work.table);
  if (mode === 'off') return { ran: false, mode, reason: 'deletes: off' };
  if (work.pipeline !== 'incremental') {
    return { ran: false, mode, reason: 'a historical load leaves the target equal to the source' };
  }
  if (!state.verify || !state.values) {
    throw new InvalidInputError(`${work.table}: deletes checked before the window was verified`);
  }
  // Only keys below a bound the export fixed can be judged: above it, the target has not been sent them.
  const bound = state.export?.upper ?? null;
  if (bound === null)
    return { ran: false, mode, reason: 'the window has no upper bound to judge keys below' };
  // The table's newest check only: what the step reads does not grow with the log.
  const [last] = await deps.ports.audit.read({
    sourceTables: [work.table],
    eventTypes: ['deletes'],
    newest: 1,
  });
  // Keys left for the next check make it due at once, where handling shrinks what is left; a report
  // changes nothing, so its next check would find the same keys: it waits for the cadence.
  const due = deleteCheckDue(
    last ? { at: last.createdAt, errorType: mode === 'report' ? null : last.errorType } : null,
    everyMs,
    deps.now(),
  );
  if (!due.due) return { ran: false, mode, reason: `not due until ${due.next} (every ${every})` };

  const table = await resolvedTable(deps, work);
  // Both sides below the bound: a key inserted at the source since is above it, and no difference.
  const slice: Slice = { kind: 'window', window: { from: null, to: bound } };
  const result = await compareValues(deps.ports, table, slice, {
    keysOnly: true,
    maxKeys: MAX_KEYS_PER_CHECK,
    onProgress: (message) => deps.logger.info(`${work.table}: deletes: ${message}`),
  });
  // A key the target holds below the bound and the source does not is deleted there, or was updated
  // since the export (its cursor moved past the bound): only a key absent from the whole source table,
  // in one snapshot, is deleted.
  const candidates = result.extra.map((key) => encodeFields(key));
  const present = new Set(await deps.ports.source.presentKeys(table, candidates));
  let gone = candidates.filter((key) => !present.has(key));
  let handled = 0;
  if (mode !== 'report') ({ gone, handled } = await handleKeys(deps, work, table, slice, gone, mode));
  if (mode !== 'report' && handled !== gone.length) {
    throw new DeleteCheckError(
      `${work.table}: ${gone.length} key(s) are gone from the source, but ${mode === 'soft' ? 'marking' : 'deleting'} them in the target changed ${handled} row(s); did the target change while it was checked? The next run checks again (a failed check leaves no deletes event); should it fail again, reload the table historically`,
    );
  }
  // Named for a person, each clipped: a key of long text must not swell the state or the event.
  const listed = boundKeys(gone).listed.map((key) =>
    clip(describeKey(table.primaryKey, decodeFields(key)), KEY_CHARS),
  );
  const incomplete = result.truncated || result.unsplit.length > 0;
  if (incomplete) {
    deps.logger.warn(
      `${work.table}: deletes: more keys differ than one check handles (${MAX_KEYS_PER_CHECK}); the next run checks again (${INCOMPLETE_CHECK})`,
    );
  }
  return {
    ran: true,
    mode,
    bound,
    sourceRows: result.sourceRows,
    targetRows: result.targetRows,
    found: gone.length,
    handled,
    missing: result.missing.length,
    keys: listed,
    incomplete,
  };
}

/** What the check did, in one line: for the `deletes` event and the success event's message. */
export function describeDeletes(deletes: DeletesOutput): string | undefined {
  if (!deletes.ran) return deletes.mode === 'off' ? undefined : `deletes not checked: ${deletes.reason}`;
  const action =
    deletes.mode === 'report'
      ? 'reported (the target is unchanged)'
      : deletes.mode === 'soft'
        ? `${deletes.handled} marked deleted in the target`
        : `${deletes.handled} deleted from the target`;
  const keys = deletes.keys.length > 0 ? `: ${deletes.keys.join(', ')}` : '';
  const more = deletes.found > deletes.keys.length ? ` and ${deletes.found - deletes.keys.length} more` : '';
  const missing =
    deletes.missing > 0
      ? `; ${deletes.missing} key(s) below the bound are missing in the target (see tally reconcile)`
      : '';
  const incomplete = deletes.incomplete ? '; more differ than one check handles, the next run goes on' : '';
  return `deletes (${deletes.mode}): ${deletes.found} key(s) gone from the source below ${deletes.bound}, ${action}${keys}${more}${missing}${incomplete}`;
}
