// `tally reconcile`: compares a table's values, or a window's, between PostgreSQL and Snowflake by segment
// checksums computed in each database (`domain/reconcile.ts`), and prints what differs: keys missing from
// the target, keys only the target holds, and keys whose values differ with their columns.
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambdas/config-file';
import { CliError, configOption, EXIT, log } from '../common';

interface ReconcileOptions {
  readonly table: string;
  readonly window?: string;
  readonly since?: string;
  readonly config?: string;
  readonly keysOnly?: boolean;
}

export function registerReconcile(program: Command): void {
  program
    .command('reconcile')
    .description("compare a table's values in PostgreSQL and Snowflake, and report what differs")
    .requiredOption('--table <name>', 'the configured table (schema.name or name)')
    .option('--window <from,to>', 'only the rows whose cursor is in [from, to)')
    .option('--since <iso>', 'only the rows whose cursor is at or after this instant')
    .option('--keys-only', 'compare the primary keys only (finds missing and extra keys, fast)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nProgress goes to stderr, the report to stdout. Exit code 0 when the values are equal, 1 when they differ, 2 for a wrong argument or configuration.',
    )
    .action(async (options: ReconcileOptions) => {
      if (options.config === undefined) {
        throw new CliError('tally reconcile needs the configuration: pass --config FILE', EXIT.usage);
      }
      if (options.window !== undefined && options.since !== undefined) {
        throw new CliError('pass either --window or --since, not both', EXIT.usage);
      }
      const config = await loadConfigFile(options.config);
      const { reconcileTable, formatReport } = await import('../reconcile-report');
      const report = await reconcileTable(config, options, log);
      process.stdout.write(formatReport(report));
      process.exitCode = report.equal ? EXIT.ok : EXIT.failed;
    });
}
