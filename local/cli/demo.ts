// `tally demo` (what `npm start` runs): the embedded defaults, the seeded demo schema, and each demo table
// exported to the S3 stand-in with a summary of what was written.
import type { Command } from 'commander';
import { postgresSchema, s3Schema } from '../../lambdas/config';
import { DEMO_TABLES, type DemoTable, seedDemo } from '../demo-data';
import { CliError, formatTable, log, nonNegativeInt, positiveInt, seconds, withLocalStack } from './common';

/** Large enough to show real work, small enough for the whole demo to take well under two minutes. */
export const DEMO_ROWS = 10_000;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('start the embedded defaults, seed the demo tables, transfer them and print a summary')
    .option(
      '--rows <n>',
      'orders (and events) to seed; customers and order lines scale with it',
      positiveInt,
      DEMO_ROWS,
    )
    .option('--seed <n>', 'seed of the demo data', nonNegativeInt, 1)
    .action(async (options: { rows: number; seed: number }) => {
      await demo(options);
    });
}

async function demo(options: { rows: number; seed: number }): Promise<void> {
  const started = Date.now();
  const [{ PostgresSource }, { S3Stage }] = await Promise.all([
    import('../../lambdas/adapters/postgres'),
    import('../../lambdas/adapters/s3'),
  ]);
  await withLocalStack(async ({ info }) => {
    log(`seeding the demo tables (${options.rows.toLocaleString('en-US')} orders, seed ${options.seed})...`);
    const seeded = await seedDemo(info.postgres.url, options);
    const source = new PostgresSource(postgresSchema.parse({ url: info.postgres.url }));
    const stage = new S3Stage(s3Schema.parse(info.s3));
    const rows: [string, number, number, number][] = [];
    try {
      for (const spec of DEMO_TABLES) {
        log(`exporting ${spec.schema}.${spec.name}...`);
        const table = await source.resolve(spec);
        const result = await source.export(table, { kind: 'all' }, stage, { keyPrefix: `demo/${spec.name}` });
        if (result.rows !== seeded[spec.name as DemoTable]) {
          throw new CliError(
            `${spec.name}: seeded ${seeded[spec.name as DemoTable]} rows but exported ${result.rows}`,
          );
        }
        rows.push([spec.name, result.rows, result.files.length, result.compressedBytes]);
      }
    } finally {
      await source.close();
    }
    console.log(formatTable(['table', 'rows', 'files', 'bytes'], rows));
    console.log(
      `exported ${rows.length} tables to s3://${info.s3.bucket}/demo/ in ${seconds(Date.now() - started)}: every row count matches the source`,
    );
  });
}
