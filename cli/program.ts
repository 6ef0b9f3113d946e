// The `tally` command line: one commander program, one module per subcommand.
import { Command, type OutputConfiguration } from 'commander';
import { registerAudit } from './commands/audit';
import { registerBench } from './commands/bench';
import { registerDemo } from './commands/demo';
import { registerLocalUp } from './commands/local-up';
import { registerReconcile } from './commands/reconcile';
import { registerReport } from './commands/report';
import { registerRun } from './commands/run';
import { registerSnowflakeDdl } from './commands/snowflake-ddl';
import { registerStart } from './commands/start';

/** `output` redirects commander's own messages (help, usage errors), e.g. in tests. */
export function createProgram(output?: OutputConfiguration): Command {
  const program = new Command('tally')
    .description(
      'Audited PostgreSQL → S3 → Snowflake transfers: run them locally, start them in AWS, read the audit log',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  if (output) program.configureOutput(output);
  registerLocalUp(program);
  registerDemo(program);
  registerRun(program);
  registerAudit(program);
  registerReport(program);
  registerReconcile(program);
  registerBench(program);
  registerStart(program);
  registerSnowflakeDdl(program);
  return program;
}
