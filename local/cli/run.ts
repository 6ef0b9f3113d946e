// `tally run`: executes the state machine definition locally, against the configured PostgreSQL, S3 and
// Snowflake, or against freshly started embedded defaults when no configuration is given.
import { type Command, Option } from 'commander';
import { PIPELINES, type PipelineName } from '../../lambdas/domain/audit';
import { executionInputSchema } from '../../lambdas/steps/contract';
import { loadConfigFile } from '../config-file';
import { DEMO_TABLES } from '../demo-data';
import { EXIT, nonNegativeInt, tableList, withLocalStack } from './common';
import { localConfig } from './local-config';

interface RunOptions {
  pipeline: PipelineName;
  tables?: string[];
  config?: string;
  retryIntervalMs?: number;
  alertsFile?: string;
}

export function configOption(): Option {
  return new Option('--config <file>', 'Tally configuration file (JSON)').env('TALLY_CONFIG');
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a pipeline here with the deployed state machine definition (no AWS Step Functions)')
    .addOption(new Option('--pipeline <name>', 'which pipeline').choices(PIPELINES).makeOptionMandatory())
    .option('--tables <a,b>', 'tables to transfer (default: every configured table)', tableList)
    .addOption(configOption())
    .option('--retry-interval-ms <n>', 'wait between retries instead of the deployed backoff', nonNegativeInt)
    .option('--alerts-file <file>', 'also append published alerts to this file as JSON lines')
    .addHelpText(
      'after',
      '\nWithout --config it starts the embedded defaults and targets them (the demo tables, not seeded).\nExit code 0 when the execution succeeded, 1 when it failed, 2 for a wrong argument or configuration.',
    )
    .action(async (options: RunOptions) => {
      const input = executionInputSchema.parse({
        pipeline: options.pipeline,
        ...(options.tables !== undefined ? { tables: options.tables } : {}),
      });
      const { runLocalPipeline } = await import('./pipeline');
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
