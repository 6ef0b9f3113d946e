// `tally report`'s work: two bounded reads of the audit log (the period's events, at most `maxEvents` of
// them, and each table's newest success however old), the chain verified over the period as `tally audit
// verify --since` verifies it, the report drawn and written to one HTML file.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TallyConfig } from '../../lambdas/config';
import type { AuditEvent } from '../../lambdas/domain/audit';
import { qualifiedName } from '../../lambdas/domain/table';
import { LOCAL_ADAPTERS } from '../../lambdas/runtime/adapters';
import { verifyAudit } from '../audit-log';
import { type ChainStatus, chainStatusOfVerification } from './chain-status';
import { renderReport } from './html';
import { buildReport, type Report, type Schedule } from './model';

export interface ReportOptions {
  /** ISO 8601; events created at or after it. */
  readonly since: string;
  /** One source (`schema.name`) or target table. */
  readonly table?: string;
  readonly maxEvents: number;
  readonly schedule: Schedule;
  readonly now?: Date;
  /**
   * The chain's verdict from elsewhere (the full verifier); without it the report checks the events it
   * read.
   */
  readonly chain?: ChainStatus;
}

/** Reads the audit log and draws the report. */
export async function readReport(config: TallyConfig, options: ReportOptions): Promise<Report> {
  const warehouse = LOCAL_ADAPTERS.warehouse(config);
  const { since, table, maxEvents } = options;
  try {
    const events = await warehouse.audit.read({
      since,
      ...(table !== undefined ? { table } : {}),
      newest: maxEvents,
    });
    // The configured tables (or the one asked for) and every table the period's events name.
    const configured = config.tables.map(qualifiedName).filter((t) => table === undefined || t === table);
    const seen = events.map((e) => e.sourceTable).filter((t): t is string => t !== null);
    const tables = [...new Set([...configured, ...seen])];
    const lastVerified: AuditEvent[] =
      tables.length === 0
        ? []
        : await warehouse.audit.read({
            sourceTables: tables,
            eventTypes: ['success'],
            newest: 1,
            perTable: true,
          });
    const now = options.now ?? new Date();
    return buildReport({
      events,
      lastVerified,
      tables,
      since,
      now,
      schedule: options.schedule,
      ...(events.length >= maxEvents ? { truncated: { maxEvents } } : {}),
      chain: options.chain ?? (await verifiedChain(config, since, table, tables)),
    });
  } finally {
    await warehouse.close();
  }
}

/**
 * The chain's verdict from the audit log's verifier, from the newest checkpoint before the period (the
 * chain's start without one) to its head: for one table (given by its source or its target name, which
 * the period's events resolve), that table's events.
 */
async function verifiedChain(
  config: TallyConfig,
  since: string,
  table: string | undefined,
  tables: readonly string[],
): Promise<ChainStatus> {
  const source = table === undefined ? undefined : tables.length === 1 ? (tables[0] as string) : table;
  return chainStatusOfVerification(
    await verifyAudit(config, { since, ...(source !== undefined ? { table: source } : {}) }),
  );
}

/** Writes the report's HTML; returns the file's absolute path. */
export async function writeReport(config: TallyConfig, out: string, options: ReportOptions): Promise<string> {
  const html = renderReport(await readReport(config, options));
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, html);
  return path;
}
