// `tally audit`: reads the audit log from the warehouse, filtered by job, table and time.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../../lambdas/config-file';
import type { AuditFilter } from '../../lambdas/ports';
import { CliError, configOption, EXIT } from '../common';

interface AuditOptions {
  job?: string;
  table?: string;
  since?: string;
  format: 'table' | 'json';
  config?: string;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('read the audit log (one row per event of every job) from Snowflake')
    .option('--job <id>', 'only this job')
    .option('--table <name>', 'only this source table (schema.name)')
    .option('--since <iso>', 'only events created at or after this time (ISO 8601)', isoTime)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(configOption())
    .action(async (options: AuditOptions) => {
      if (options.config === undefined) {
        throw new CliError(
          'the audit log lives in the configured warehouse: pass --config FILE (or set TALLY_CONFIG)',
          EXIT.usage,
        );
      }
      const config = await loadConfigFile(options.config);
      const filter: AuditFilter = {
        ...(options.job !== undefined ? { jobId: options.job } : {}),
        ...(options.table !== undefined ? { table: options.table } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
      };
      const { auditTable, readAudit } = await import('../audit-log');
      const events = await readAudit(config, filter);
      console.log(options.format === 'json' ? JSON.stringify(events, null, 2) : auditTable(events));
    });
}

export function isoTime(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an ISO 8601 time, e.g. 2025-06-01T00:00:00Z');
  }
  return new Date(value).toISOString();
}
