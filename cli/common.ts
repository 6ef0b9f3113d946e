// What every subcommand shares: exit codes, diagnostics on stderr, the options several commands take and
// their parsers, and plain-text tables. Heavy modules load only when a command runs, so that --help and
// argument errors answer at once.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { describeIssues } from '../lambdas/config';
import { PIPELINES, type PipelineName } from '../lambdas/domain/audit';
import { InvalidConfigError, InvalidInputError, TallyError } from '../lambdas/domain/errors';
import { type ExecutionInput, executionInputSchema } from '../lambdas/steps/contract';

/** 0 success, 1 the work failed, 2 the command line or configuration was wrong, 130/143 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure whose message is already meant for the user, with the exit code it ends in. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** The exit code a thrown error ends the process with. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof InvalidConfigError || err instanceof InvalidInputError) return EXIT.usage;
  return EXIT.failed;
}

/** One line naming the problem; named errors keep their name so the user can look it up. */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof TallyError) return `${err.name}: ${err.message}`;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}

/** Progress and diagnostics go to stderr so that stdout stays machine-readable. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** `--config FILE`, also read from TALLY_CONFIG. */
export function configOption(): Option {
  return new Option('--config <file>', 'Tally configuration file (JSON)').env('TALLY_CONFIG');
}

/** `--pipeline` (required) and `--tables`: what an execution is started with. */
export function withExecutionOptions(command: Command): Command {
  return command
    .addOption(new Option('--pipeline <name>', 'which pipeline').choices(PIPELINES).makeOptionMandatory())
    .option('--tables <a,b>', 'tables to transfer (default: every configured table)', tableList);
}

export interface ExecutionOptions {
  readonly pipeline: PipelineName;
  readonly tables?: string[];
}

/** The execution input those options give; a wrong one is a usage error naming the field. */
export function executionInputOf(options: ExecutionOptions): ExecutionInput {
  const result = executionInputSchema.safeParse({
    pipeline: options.pipeline,
    ...(options.tables !== undefined ? { tables: options.tables } : {}),
  });
  if (!result.success) throw new CliError(`invalid input: ${describeIssues(result.error)}`, EXIT.usage);
  return result.data;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.replace(/_/g, '')) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  if (value === '0') return 0;
  return positiveInt(value);
}

export function tableList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new InvalidArgumentError('must name at least one table, e.g. orders,customers');
  return names;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Renders rows as an aligned plain-text table; columns of numbers (and blanks) are right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? '' : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map(
    (_, i) =>
      rows.some((r) => typeof r[i] === 'number') &&
      rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...cells.map(line)].join('\n');
}
