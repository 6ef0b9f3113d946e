// `tally local up`: starts the embedded defaults, prints their endpoints as one JSON line on stdout, and
// keeps them up until SIGINT or SIGTERM.
import type { Command } from 'commander';
import { log, positiveInt, seconds } from '../common';
import { nextShutdownSignal, signalExitCode, stopStack } from '../embedded';

interface LocalUpOptions {
  writeConfig?: string;
  seedDemo?: number;
}

export function registerLocalUp(program: Command): void {
  const local = program
    .command('local')
    .description('the embedded defaults: PostgreSQL, S3 and Snowflake stand-ins');
  local
    .command('up')
    .description(
      'start the embedded defaults, print their endpoints as one JSON line on stdout, keep them up until Ctrl-C',
    )
    .option('--write-config <file>', 'also write a Tally configuration file for them (the demo tables)')
    .option('--seed-demo <rows>', 'also create the demo tables with this many orders', positiveInt)
    .action(async (options: LocalUpOptions) => {
      const signal = await localUp(options);
      // Stopped on a signal: exit now with its code, whatever handle (a socket, a DuckDB thread) is left.
      if (signal !== undefined) process.exit(signalExitCode(signal));
    });
}

async function localUp(options: LocalUpOptions): Promise<'SIGINT' | 'SIGTERM' | undefined> {
  log('starting the embedded defaults...');
  const started = Date.now();
  const [{ startLocalStack }, { writeConfigFile }, { DEMO_TABLES, seedDemo }, { localConfig }] =
    await Promise.all([
      import('../../local/stack'),
      import('../../lambdas/config-file'),
      import('../../local/demo-data'),
      import('../../local/local-config'),
    ]);
  // After the imports: the embedded PostgreSQL package installs its own signal hook when it loads.
  const shutdown = nextShutdownSignal();
  let signalled: 'SIGINT' | 'SIGTERM' | undefined;
  void shutdown.signal.then((signal) => {
    signalled = signal;
  });
  const stack = await startLocalStack();
  try {
    if (signalled) return signalled;
    if (options.seedDemo !== undefined) {
      const counts = await seedDemo(stack.info.postgres.url, { rows: options.seedDemo, seed: 1 });
      log(`seeded the demo tables: ${JSON.stringify(counts)}`);
    }
    if (options.writeConfig !== undefined) {
      await writeConfigFile(options.writeConfig, localConfig(stack.info, DEMO_TABLES));
      log(`wrote ${options.writeConfig}`);
    }
    process.stdout.write(`${JSON.stringify(stack.info)}\n`);
    log(`ready in ${seconds(Date.now() - started)}; press Ctrl-C to stop`);
    const signal = await shutdown.signal;
    log(`${signal}: stopping`);
    return signal;
  } finally {
    shutdown.dispose();
    // Well inside the 10 s a supervisor usually grants after SIGTERM before it kills.
    await stopStack(stack, 8_000);
    log('stopped');
  }
}
