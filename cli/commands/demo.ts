// `tally demo` (what `npm start` runs): the whole story on embedded defaults. Seed the demo tables, run
// the historical pipeline, change source rows, run the incremental pipeline, then show the audit log.
import type { Command } from 'commander';
import type { PipelineName } from '../../lambdas/domain/audit';
import { CliError, EXIT, log, nonNegativeInt, positiveInt, seconds } from '../common';
import { withLocalStack } from '../embedded';
import { REPORT_DEFAULTS } from '../report/model';
import { DEFAULT_REPORT_FILE } from './report';

/** Large enough to show real work, small enough for the whole demo to take well under two minutes. */
export const DEMO_ROWS = 10_000;

interface DemoOptions {
  rows: number;
  seed: number;
  report: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'start the embedded defaults, seed demo tables, run the historical pipeline, change rows, run the incremental pipeline, print the audit log',
    )
    .option(
      '--rows <n>',
      'orders (and events) to seed; customers and order lines scale with it',
      positiveInt,
      DEMO_ROWS,
    )
    .option('--seed <n>', 'seed of the demo data', nonNegativeInt, 1)
    .option('--report <file>', 'where to write the HTML report of the audit log', DEFAULT_REPORT_FILE)
    .action(async (options: DemoOptions) => {
      await demo(options);
    });
}

async function demo(options: DemoOptions): Promise<void> {
  const started = Date.now();
  const [
    { changeDemo, DEMO_TABLES, seedDemo },
    { localConfig },
    { runLocalPipeline },
    { auditTable, readAudit },
    { writeReport },
  ] = await Promise.all([
    import('../../local/demo-data'),
    import('../../local/local-config'),
    import('../local-run'),
    import('../audit-log'),
    import('../report/write-report'),
  ]);
  await withLocalStack(async ({ info }) => {
    log(`seeding the demo tables (${options.rows.toLocaleString('en-US')} orders, seed ${options.seed})...`);
    const seeded = await seedDemo(info.postgres.url, options);
    log(`  ${describe(seeded)}`);
    // The demo changes rows a moment before the incremental run; with the usual lag behind the source's
    // clock those rows would wait for the next run, so this configuration does not lag.
    const config = localConfig(info, DEMO_TABLES, { lagSeconds: 0 });
    const run = async (pipeline: PipelineName) => {
      log(`\n${pipeline} pipeline`);
      const verdict = await runLocalPipeline(config, { pipeline }, { retryIntervalMs: 200 });
      if (verdict.status !== 'succeeded') {
        console.log(auditTable(await readAudit(config).catch(() => [])));
        throw new CliError(`demo FAILED: the ${pipeline} pipeline failed`, EXIT.failed);
      }
    };
    await run('historical');
    log('\nchanging source rows (inserts and updates with a later updated_at)...');
    const changes = await changeDemo(info.postgres.url, { seed: options.seed });
    log(`  inserted ${describe(changes.inserted)}\n  updated ${describe(changes.updated)}`);
    await run('incremental');
    const events = await readAudit(config);
    console.log(`\naudit log (${events.length} events)`);
    console.log(auditTable(events));
    // Success means: for both pipelines, every demo table closed with the same count at both ends.
    const unproven = (['historical', 'incremental'] as const).flatMap((pipeline) =>
      DEMO_TABLES.map((t) => `${t.schema}.${t.name}`)
        .filter(
          (table) =>
            !events.some(
              (e) =>
                e.pipelineName === pipeline &&
                e.sourceTable === table &&
                e.eventType === 'success' &&
                e.countMatch === true &&
                e.recordCountBefore === e.recordCountAfter,
            ),
        )
        .map((table) => `${pipeline} ${table}`),
    );
    const report = await writeReport(config, options.report, {
      since: new Date(started).toISOString(),
      maxEvents: REPORT_DEFAULTS.maxEvents,
      schedule: REPORT_DEFAULTS.schedule,
    });
    console.log(`report: ${report}`);
    if (unproven.length > 0) {
      throw new CliError(`demo FAILED: no matching success event for ${unproven.join(', ')}`, EXIT.failed);
    }
    console.log(
      `demo SUCCEEDED in ${seconds(Date.now() - started)}: ${DEMO_TABLES.length} tables by the historical and the incremental pipeline, every count matched from PostgreSQL to Snowflake`,
    );
  });
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([table, n]) => `${table} ${n.toLocaleString('en-US')}`)
    .join(', ');
}
