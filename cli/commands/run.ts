// `tally run`: executes the state machine definition locally, against the configured PostgreSQL, S3 and
// Snowflake, or against freshly started embedded defaults when no configuration is given.
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambdas/config-file';
import { DEMO_TABLES } from '../../local/demo-data';
import { localConfig } from '../../local/local-config';
import {
  configOption,
  EXIT,
  type ExecutionOptions,
  executionInputOf,
  nonNegativeInt,
  withExecutionOptions,
} from '../common';
import { withLocalStack } from '../embedded';

interface RunOptions extends ExecutionOptions {
  config?: string;
  retryIntervalMs?: number;
  alertsFile?: string;
}

export function registerRun(program: Command): void {
  withExecutionOptions(
    program
      .command('run')
      .description('run a pipeline here with the deployed state machine definition (no AWS Step Functions)'),
  )
    .addOption(configOption())
    .option('--retry-interval-ms <n>', 'wait between retries instead of the deployed backoff', nonNegativeInt)
    .option('--alerts-file <file>', 'also append published alerts to this file as JSON lines')
    .addHelpText(
      'after',
      '\nWithout --config it starts the embedded defaults and targets them (the demo tables, not seeded).\nExit code 0 when the execution succeeded, 1 when it failed, 2 for a wrong argument or configuration.',
    )
    .action(async (options: RunOptions) => {
      const input = executionInputOf(options);
      const { runLocalPipeline } = await import('../local-run');
      const runOptions = {
        ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
        ...(options.alertsFile !== undefined ? { alertsFile: options.alertsFile } : {}),
      };
      const verdict =
        options.config !== undefined
          ? await runLocalPipeline(await loadConfigFile(options.config), input, runOptions)
          : await withLocalStack(({ info }) =>
              runLocalPipeline(localConfig(info, DEMO_TABLES), input, runOptions),
            );
      process.exitCode = verdict.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    });
}
