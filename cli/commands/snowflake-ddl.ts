// `tally snowflake-ddl`: prints the one-time SQL an administrator runs on a Snowflake account: roles,
// warehouse and resource monitor, grants, storage integration, audit table, target tables and the service
// user; a placeholder left to fill in is also said on stderr.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TallyConfig } from '../../lambdas/config';
import { loadConfigFile } from '../../lambdas/config-file';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { configOption, log, positiveInt } from '../common';
import { withLocalStack } from '../embedded';

interface DdlOptions {
  config?: string;
  publicKeyFile?: string;
  awsRoleArn?: string;
  monthlyCredits?: number;
}

export function registerSnowflakeDdl(program: Command): void {
  program
    .command('snowflake-ddl')
    .description('print the SQL an administrator runs once on the Snowflake account (roles, grants, tables)')
    .addOption(configOption())
    .option('--public-key-file <pem>', "the service user's RSA public key (PEM)")
    .option('--aws-role-arn <arn>', 'the IAM role Snowflake assumes to read the bucket')
    .option(
      '--monthly-credits <n>',
      "the resource monitor's monthly credit quota for Tally's warehouse (default 100)",
      positiveInt,
    )
    .addHelpText(
      'after',
      '\nThe target tables are derived from the source tables, so PostgreSQL must be reachable. Without\n--config it shows the script for the demo tables on freshly started embedded defaults.',
    )
    .action(async (options: DdlOptions) => {
      const publicKey =
        options.publicKeyFile !== undefined ? await readFile(options.publicKeyFile, 'utf8') : undefined;
      const ddlOptions = {
        ...(publicKey !== undefined ? { publicKey } : {}),
        ...(options.awsRoleArn !== undefined ? { awsRoleArn: options.awsRoleArn } : {}),
        ...(options.monthlyCredits !== undefined ? { monthlyCredits: options.monthlyCredits } : {}),
      };
      const { snowflakeDdl } = await import('../../lambdas/adapters/snowflake/ddl');
      const print = (script: string) => {
        process.stdout.write(script);
        const placeholders = script.match(/^-- BEFORE RUNNING: .*$/m);
        if (placeholders) log(placeholders[0].replace(/^-- /, ''));
      };
      if (options.config !== undefined) {
        const config = await loadConfigFile(options.config);
        print(snowflakeDdl(config, await resolveTables(config), ddlOptions));
        return;
      }
      const [{ DEMO_TABLES, seedDemo }, { localConfig }] = await Promise.all([
        import('../../local/demo-data'),
        import('../../local/local-config'),
      ]);
      await withLocalStack(async ({ info }) => {
        log('seeding the demo tables to describe them...');
        await seedDemo(info.postgres.url, { rows: 1, seed: 1 });
        const config = localConfig(info, DEMO_TABLES);
        print(snowflakeDdl(config, await resolveTables(config), ddlOptions));
      });
    });
}

async function resolveTables(config: TallyConfig): Promise<ResolvedTable[]> {
  const { PostgresSource } = await import('../../lambdas/adapters/postgres');
  const source = new PostgresSource(config.postgres);
  try {
    const resolved: ResolvedTable[] = [];
    for (const table of config.tables) resolved.push(await source.resolve(table));
    return resolved;
  } finally {
    await source.close();
  }
}
