// `tally snowflake-ddl`: prints the one-time SQL an administrator runs on a Snowflake account: roles,
// warehouse and resource monitor, grants, storage integration, audit table, target tables and the service
// user; a placeholder left to fill in is also said on stderr. With --stack or --outputs the storage
// integration's role and allowed location come from the deployed stack: the bucket the functions write to.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TallyConfig } from '../../lambdas/config';
import { loadConfigFile } from '../../lambdas/config-file';
import type { ResolvedTable } from '../../lambdas/domain/table';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { CliError, configOption, EXIT, log, positiveInt } from '../common';
import { withLocalStack } from '../embedded';
import {
  outputsSource,
  readStackOutputs,
  type StackOptions,
  stackOptions,
  stackOutput,
} from '../stack-outputs';

interface DdlOptions extends StackOptions {
  config?: string;
  publicKeyFile?: string;
  awsRoleArn?: string;
  monthlyCredits?: number;
}

export function registerSnowflakeDdl(program: Command): void {
  const command = program
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
      "\nThe target tables are derived from the source tables, so PostgreSQL must be reachable. Without\n--config it shows the script for the demo tables on freshly started embedded defaults. With --stack\n(or --outputs) the role and the bucket are the deployed stack's outputs SnowflakeRoleArn and BucketName.",
    );
  for (const option of stackOptions()) command.addOption(option);
  command.action(async (options: DdlOptions) => {
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
      const deployed = await fromStack(await loadConfigFile(options.config), options);
      const config = deployed.config;
      const roleArn = deployed.awsRoleArn ?? options.awsRoleArn;
      print(
        snowflakeDdl(config, await resolveTables(config), {
          ...ddlOptions,
          ...(roleArn !== undefined ? { awsRoleArn: roleArn } : {}),
        }),
      );
      return;
    }
    if (options.stack !== undefined || options.outputs !== undefined) {
      throw new CliError('--stack and --outputs need --config: the tables the stack transfers', EXIT.usage);
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

/** The configuration with the deployed bucket, and the deployed role, when --stack or --outputs is given. */
export async function fromStack(
  config: TallyConfig,
  options: StackOptions & { readonly awsRoleArn?: string },
): Promise<{ config: TallyConfig; awsRoleArn?: string }> {
  const outputs = await readStackOutputs(options);
  if (outputs === undefined) return { config };
  if (options.awsRoleArn !== undefined) {
    throw new CliError(
      'give --aws-role-arn or --stack/--outputs, not both: the stack outputs its own role (SnowflakeRoleArn)',
      EXIT.usage,
    );
  }
  const where = outputsSource(options);
  const bucket = stackOutput(outputs, STACK_OUTPUTS.bucketName, where);
  const awsRoleArn = stackOutput(outputs, STACK_OUTPUTS.snowflakeRoleArn, where);
  if (bucket !== config.s3.bucket) {
    log(
      `the storage integration allows s3://${bucket}/ (${where}), the bucket the functions write to, not s3.bucket ${config.s3.bucket}`,
    );
  }
  return { config: { ...config, s3: { ...config.s3, bucket } }, awsRoleArn };
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
