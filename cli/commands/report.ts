// `tally report`: one self-contained HTML file with charts, drawn from the audit log of the last days.
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambdas/config-file';
import { CliError, configOption, EXIT, log, positiveInt } from '../common';
import { REPORT_DEFAULTS } from '../report/model';
import { isoTime } from './audit';

interface ReportCommandOptions {
  since?: string;
  table?: string;
  out: string;
  maxEvents: number;
  scheduleMinutes: number;
  freshnessIntervals: number;
  config?: string;
}

/** Where the report goes without `--out`. */
export const DEFAULT_REPORT_FILE = 'tally-report.html';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML report with charts, drawn from the audit log')
    .option(
      '--since <iso>',
      'only events created at or after this time (ISO 8601; default: 30 days ago)',
      isoTime,
    )
    .option('--table <name>', 'only this source (schema.name) or target table')
    .option('--out <file>', 'the HTML file to write', DEFAULT_REPORT_FILE)
    .option(
      '--max-events <n>',
      'read at most this many events, the newest of the period',
      positiveInt,
      REPORT_DEFAULTS.maxEvents,
    )
    .option(
      '--schedule-minutes <n>',
      "the incremental pipeline's schedule interval, for freshness",
      positiveInt,
      REPORT_DEFAULTS.schedule.intervalMinutes,
    )
    .option(
      '--freshness-intervals <n>',
      'schedule intervals without a verified window before a table counts as stale',
      positiveInt,
      REPORT_DEFAULTS.schedule.intervals,
    )
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nThe file opens offline: its charts (Chart.js), style and data are inside it. It prints the path it wrote.',
    )
    .action(async (options: ReportCommandOptions) => {
      if (options.config === undefined) {
        throw new CliError(
          'the report is drawn from the audit log in the configured warehouse: pass --config FILE (or set TALLY_CONFIG)',
          EXIT.usage,
        );
      }
      const config = await loadConfigFile(options.config);
      const { writeReport } = await import('../report/write-report');
      const since =
        options.since ?? new Date(Date.now() - REPORT_DEFAULTS.sinceDays * 86_400_000).toISOString();
      log(`reading the audit log since ${since}...`);
      const path = await writeReport(config, options.out, {
        since,
        ...(options.table !== undefined ? { table: options.table } : {}),
        maxEvents: options.maxEvents,
        schedule: { intervalMinutes: options.scheduleMinutes, intervals: options.freshnessIntervals },
      });
      console.log(path);
    });
}
