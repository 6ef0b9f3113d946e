// The `tally` command line: one commander program, one module per subcommand.
import { Command } from 'commander';
import { registerBench } from './bench';
import { registerLocalUp } from './local-up';

export function createProgram(): Command {
  const program = new Command('tally')
    .description(
      'Audited PostgreSQL → S3 → Snowflake transfers: run them locally, start them in AWS, read the audit log',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerLocalUp(program);
  registerBench(program);
  return program;
}
