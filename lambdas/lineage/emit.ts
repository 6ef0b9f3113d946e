// Sends the OpenLineage run events of audit events already written. Lineage never fails a transfer nor
// holds an audit event back: it is sent only after the audit write, each send is bounded by the
// transport's timeout, the first failure stops the sending for this call, and every event not taken is
// kept in the stage (`<prefix>/lineage/pending/`) for the next call to send first, in order, up to
// `pendingLimit` events. Nothing here throws: a failure is a warning in the step's log, without the key.
import { resolvePostgres, type TallyConfig } from '../config';
import type { StepDeps } from '../deps';
import type { AuditEvent } from '../domain/audit';
import { newEventId } from '../domain/ids';
import { type LineageNaming, lineageEventOf, type RunEvent } from '../domain/lineage';
import type { Lineage } from '../ports';

/** How many kept events one call re-sends at most before its own: a long outage is worked off in steps. */
export const RESEND_BATCH = 100;

/** The naming of Tally's datasets by the OpenLineage naming conventions (spec/Naming.md). */
export function lineageNaming(
  config: TallyConfig,
  lineage: Pick<Lineage, 'namespace' | 'producer'>,
): LineageNaming {
  const pg = resolvePostgres(config.postgres);
  const host = pg.host.includes(':') ? `[${pg.host}]` : pg.host;
  return {
    namespace: lineage.namespace,
    producer: lineage.producer,
    sourceNamespace: `postgres://${host}:${pg.port}`,
    sourceDatabase: pg.database,
    // Snowflake account identifiers are case-insensitive: one spelling, so datasets match across producers.
    targetNamespace: `snowflake://${config.snowflake.account.toLowerCase()}`,
  };
}

/** Sends the lineage of these (sealed, written) audit events, after any kept from earlier runs. */
export async function emitLineage(deps: StepDeps, events: readonly AuditEvent[]): Promise<void> {
  const { lineage } = deps;
  if (!lineage) return;
  try {
    const naming = lineageNaming(deps.config, lineage);
    const runEvents = events.map((e) => lineageEventOf(e, naming)).filter((e): e is RunEvent => e !== null);
    await deliver(deps, lineage, runEvents);
  } catch (err) {
    deps.logger.warn(`OpenLineage: ${(err as Error).message ?? String(err)}`);
  }
}

async function deliver(deps: StepDeps, lineage: Lineage, events: readonly RunEvent[]): Promise<void> {
  const { stage } = deps.ports;
  const folder = pendingFolder(deps);
  let kept = (
    await stage.list(folder).catch(warnAnd(deps, 'could not list the kept lineage events', []))
  ).sort();
  let failure: string | null = null;
  let resent = 0;
  for (const key of kept.slice(0, RESEND_BATCH)) {
    const event = await stage.getJson<RunEvent>(key).catch(() => null);
    if (event !== null) {
      try {
        await lineage.transport.send(event);
      } catch (err) {
        failure = (err as Error).message;
        break;
      }
    }
    await stage
      .delete([key])
      .catch(warnAnd(deps, `could not remove the re-sent lineage event ${key}`, undefined));
    resent += 1;
  }
  kept = kept.slice(resent);
  if (resent > 0)
    deps.logger.info(`OpenLineage: re-sent ${resent} kept event(s) to ${lineage.transport.target}`);
  const unsent: RunEvent[] = [];
  for (const event of events) {
    if (failure === null) {
      try {
        await lineage.transport.send(event);
        continue;
      } catch (err) {
        failure = (err as Error).message;
      }
    }
    unsent.push(event);
  }
  if (failure === null) return;
  let written = 0;
  for (const event of unsent) {
    const ok = await stage
      .putJson(`${folder}${newEventId(deps.now().getTime())}.json`, event)
      .then(() => true)
      .catch(() => false);
    if (ok) written += 1;
  }
  const lost = unsent.length - written;
  deps.logger.warn(
    `OpenLineage: ${failure}; ${written} event(s) kept in s3://${stage.bucket}/${folder} for the next run${lost > 0 ? `, ${lost} could not be kept and are lost` : ''}`,
  );
  await trim(deps, lineage, folder, kept.length + written);
}

/** Drops the oldest kept events beyond `pendingLimit`, saying how many. */
async function trim(deps: StepDeps, lineage: Lineage, folder: string, count: number): Promise<void> {
  if (count <= lineage.pendingLimit) return;
  const { stage } = deps.ports;
  const keys = (await stage.list(folder)).sort();
  const excess = keys.slice(0, Math.max(0, keys.length - lineage.pendingLimit));
  if (excess.length === 0) return;
  await stage.delete(excess);
  deps.logger.warn(
    `OpenLineage: more than ${lineage.pendingLimit} events (lineage.pendingLimit) were waiting; the oldest ${excess.length} were dropped`,
  );
}

function warnAnd<T>(deps: StepDeps, what: string, fallback: T): (err: unknown) => T {
  return (err) => {
    deps.logger.warn(`OpenLineage: ${what}: ${(err as Error).message ?? String(err)}`);
    return fallback;
  };
}

export function pendingFolder(deps: Pick<StepDeps, 'config'>): string {
  return `${deps.config.s3.prefix}/lineage/pending/`;
}
