// Entry point of the `tally` command line (launched by bin/tally.js): runs one subcommand and exits with
// its code, even if a library keeps the event loop alive or hooks process exit.
import { CommanderError } from 'commander';
import { describeError, EXIT, exitCodeFor } from '../cli/common';
import { createProgram } from '../cli/program';
import { installLoopbackGuard } from '../local/loopback-guard';

async function main(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`tally: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}

if (process.env.TALLY_LOOPBACK_ONLY === '1') installLoopbackGuard();
process.exit(await main(process.argv));
