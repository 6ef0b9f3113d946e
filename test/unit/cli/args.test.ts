// The command line's argument checks, run in-process: wrong arguments end in a usage error naming the
// problem, before any server starts or any request is sent.
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { startRequest } from '../../../cli/commands/start';
import { CliError, EXIT, exitCodeFor, formatTable } from '../../../cli/common';
import { createProgram } from '../../../cli/program';

async function parse(...args: string[]): Promise<{ error: unknown; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const program = createProgram({
    writeErr: (s) => {
      stderr += s;
    },
    writeOut: (s) => {
      stdout += s;
    },
  });
  const error = await program.parseAsync(['node', 'tally', ...args]).then(
    () => null,
    (e: unknown) => e,
  );
  return { error, stderr, stdout };
}

describe('tally command line', () => {
  it('lists every user-facing command in --help and hides the benchmark worker', async () => {
    const { error, stdout } = await parse('--help');
    expect((error as CommanderError).exitCode).toBe(0);
    for (const command of ['local', 'demo', 'run', 'audit', 'bench', 'start', 'snowflake-ddl'])
      expect(stdout).toContain(command);
    expect(stdout).not.toContain('bench-worker');
  });

  it('refuses an unknown command', async () => {
    const { error, stderr } = await parse('deploy');
    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain("unknown command 'deploy'");
  });

  it('refuses a row count that is not a positive integer', async () => {
    for (const rows of ['abc', '0', '-5', '1.5']) {
      const { error, stderr } = await parse('bench', '--rows', rows);
      expect(error, rows).toBeInstanceOf(CommanderError);
      expect(stderr).toContain('--rows');
      expect(stderr).toContain('must be a positive integer');
    }
  });

  it('refuses a pipeline other than historical or incremental', async () => {
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tally';
    const { error, stderr } = await parse('start', '--pipeline', 'weekly', '--state-machine-arn', arn);
    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain('historical, incremental');
  });

  it('refuses an audit time filter that is not ISO 8601', async () => {
    const { error, stderr } = await parse('audit', '--since', 'yesterday');
    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain('must be an ISO 8601 time');
  });

  it('lists the report command in --help', async () => {
    const { stdout } = await parse('--help');
    expect(stdout).toMatch(/^\s+report \[options\]/m);
  });

  it('refuses a report period or limit that cannot be read, and a report without a configuration', async () => {
    const since = await parse('report', '--since', 'last week', '--config', 'tally.json');
    expect(since.error).toBeInstanceOf(CommanderError);
    expect(since.stderr).toContain('must be an ISO 8601 time');
    for (const option of ['--max-events', '--schedule-minutes', '--freshness-intervals']) {
      const { error, stderr } = await parse('report', option, '0', '--config', 'tally.json');
      expect(error, option).toBeInstanceOf(CommanderError);
      expect(stderr).toContain(`${option} <n>' argument '0' is invalid. must be a positive integer`);
    }
    const { TALLY_CONFIG: _unset, ...env } = process.env;
    const saved = process.env;
    process.env = env;
    try {
      const { error } = await parse('report');
      expect(error).toBeInstanceOf(CliError);
      expect(exitCodeFor(error)).toBe(EXIT.usage);
      expect((error as Error).message).toContain('pass --config FILE');
    } finally {
      process.env = saved;
    }
  });

  it('requires a pipeline to run', async () => {
    const { error, stderr } = await parse('run', '--tables', 'orders');
    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain("required option '--pipeline <name>'");
  });

  it('refuses an empty table list', async () => {
    const { error, stderr } = await parse('run', '--pipeline', 'historical', '--tables', ' , ');
    expect(error).toBeInstanceOf(CommanderError);
    expect(stderr).toContain('must name at least one table');
  });

  it('requires the state machine, by ARN or from the stack, to start an execution', async () => {
    const { error } = await parse('start', '--pipeline', 'historical');
    expect(error).toBeInstanceOf(CliError);
    expect(exitCodeFor(error)).toBe(EXIT.usage);
    expect((error as Error).message).toMatch(/--stack NAME.*--state-machine-arn ARN/);
  });

  it('refuses a malformed state machine ARN before sending any request', async () => {
    const { error } = await parse('start', '--pipeline', 'historical', '--state-machine-arn', 'Tally');
    expect(error).toBeInstanceOf(CliError);
    expect(exitCodeFor(error)).toBe(EXIT.usage);
    expect((error as Error).message).toContain('is not a state machine ARN');
  });
});

describe('startRequest', () => {
  const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:TallyPipeline';

  it('takes the region from the ARN and builds the execution input', () => {
    const request = startRequest({
      pipeline: 'historical',
      tables: ['orders', 'customers'],
      stateMachineArn: arn,
    });
    expect(request.region).toBe('eu-west-1');
    expect(request.input).toEqual({ pipeline: 'historical', tables: ['orders', 'customers'] });
    expect(request.name).toMatch(/^historical-manual-[0-9A-Z]{26}$/);
  });

  it('leaves the tables out when none are named, so every configured table runs', () => {
    expect(startRequest({ pipeline: 'incremental', stateMachineArn: arn }).input).toEqual({
      pipeline: 'incremental',
    });
  });
});

describe('formatTable', () => {
  it('right-aligns a column of numbers that has blanks', () => {
    const text = formatTable(
      ['event', 'count'],
      [
        ['start', null],
        ['success', 120],
      ],
    );
    expect(text.split('\n')).toEqual(['event    count', '-------  -----', 'start', 'success    120']);
  });

  it('aligns columns and right-aligns numbers', () => {
    const text = formatTable(
      ['table', 'rows'],
      [
        ['orders', 10000],
        ['customers', 2],
      ],
    );
    expect(text.split('\n')).toEqual([
      'table       rows',
      '---------  -----',
      'orders     10000',
      'customers      2',
    ]);
  });
});
