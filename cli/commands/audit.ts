// `tally audit`: reads the audit log from the warehouse, filtered by job, table and time.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../../lambdas/config-file';
import type { AuditFilter } from '../../lambdas/ports';
import { CliError, configOption, EXIT, log, positiveInt } from '../common';

interface AuditOptions {
  job?: string;
  table?: string;
  since?: string;
  format: 'table' | 'json';
  config?: string;
}

interface VerifyCommandOptions {
  since?: string;
  table?: string;
  full?: boolean;
  pageSize?: number;
  format: 'text' | 'json';
  config?: string;
}

export function registerAudit(program: Command): void {
  const audit = program
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
  audit
    .command('verify')
    .description(
      'verify the audit log: its hash chain, its S3 mirror and the checkpoints anchored in S3; exit 1 on a break',
    )
    .option('--since <iso>', 'start at the newest checkpoint before this time (ISO 8601)', isoTime)
    .option('--table <name>', "only this source table's events (schema.name)")
    .option('--full', "walk from the chain's first event, not from the last verified checkpoint")
    .option('--page-size <n>', 'events read per page (1000)', positiveInt)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(configOption())
    .action(async (_options: VerifyCommandOptions, command: Command) => {
      // `--config` is the parent's option too, which takes it wherever it stands.
      const options = command.optsWithGlobals<VerifyCommandOptions>();
      if (options.config === undefined) {
        throw new CliError(
          'the audit log lives in the configured warehouse: pass --config FILE (or set TALLY_CONFIG)',
          EXIT.usage,
        );
      }
      if (options.full && options.since !== undefined) {
        throw new CliError(
          '--full walks from the first event; --since starts later: give one of them',
          EXIT.usage,
        );
      }
      const config = await loadConfigFile(options.config);
      const { verifyAudit, verificationReport } = await import('../audit-log');
      const result = await verifyAudit(config, {
        ...(options.full ? { full: true } : {}),
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.table !== undefined ? { table: options.table } : {}),
        ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        onProgress: (p) => log(`verified ${p.checked} event(s)${p.at ? `, up to ${p.at}` : ''}`),
      });
      console.log(options.format === 'json' ? JSON.stringify(result, null, 2) : verificationReport(result));
      if (!result.intact) process.exitCode = EXIT.failed;
    });
}

export function isoTime(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an ISO 8601 time, e.g. 2025-06-01T00:00:00Z');
  }
  return new Date(value).toISOString();
}
