// The outputs of a deployed Tally stack, for the commands that act on it: read from CloudFormation
// (`--stack NAME`, DescribeStacks) or from the file `cdk deploy --outputs-file FILE` writes
// (`--outputs FILE`: `{ "<stack>": { "<output>": "<value>" } }`, see the CDK CLI reference).
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { AWS_API_TIMEOUTS, awsRequestHandler } from '../lambdas/adapters/aws-http';
import { STACK_OUTPUTS, type StackOutputName } from '../lib/stack-outputs';
import { CliError, EXIT } from './common';

export interface StackOptions {
  /** The deployed stack's name, read with DescribeStacks. */
  readonly stack?: string;
  /** A `cdk deploy --outputs-file` file. */
  readonly outputs?: string;
  /** The region of the stack (DescribeStacks); default the AWS CLI's. */
  readonly region?: string;
}

/** `--stack`, `--outputs` and `--region` for a command that reads the deployed stack. */
export function stackOptions(): Option[] {
  return [
    new Option('--stack <name>', 'the deployed Tally stack, whose outputs are read from CloudFormation'),
    new Option(
      '--outputs <file>',
      'the outputs file of `cdk deploy --outputs-file` (with --stack: that stack in it)',
    ),
    new Option('--region <region>', "the stack's region (default: the AWS CLI's, AWS_REGION)"),
  ];
}

export type StackOutputs = Readonly<Record<string, string>>;

/** The outputs the options point at; undefined when neither --stack nor --outputs is given. */
export async function readStackOutputs(options: StackOptions): Promise<StackOutputs | undefined> {
  if (options.outputs !== undefined) return outputsFromFile(options.outputs, options.stack);
  if (options.stack !== undefined) return describeStack(options.stack, options.region);
  return undefined;
}

/** One output by name; a stack without it is named, with what to do. */
export function stackOutput(outputs: StackOutputs, name: StackOutputName, where: string): string {
  const value = outputs[name];
  if (value === undefined || value === '') {
    throw new CliError(
      `${where} has no output ${name}: is it a Tally stack, deployed with this version (cdk deploy)?`,
      EXIT.usage,
    );
  }
  return value;
}

/** Where the outputs come from, for messages. */
export function outputsSource(options: StackOptions): string {
  if (options.outputs !== undefined)
    return `outputs file ${options.outputs}${options.stack ? ` (stack ${options.stack})` : ''}`;
  return `stack ${options.stack}`;
}

async function outputsFromFile(path: string, stack: string | undefined): Promise<StackOutputs> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'does not exist' : `cannot be read as JSON (${e.code ?? e.message})`;
    throw new CliError(
      `outputs file ${path} ${why}: write it with cdk deploy --outputs-file ${path}`,
      EXIT.usage,
    );
  }
  const stacks = isRecord(parsed) ? parsed : {};
  const names = Object.keys(stacks).filter((name) => isRecord(stacks[name]));
  const chosen =
    stack ??
    (names.length === 1
      ? names[0]
      : names.find((name) => STACK_OUTPUTS.stateMachineArn in (stacks[name] as object)));
  if (chosen === undefined || !isRecord(stacks[chosen])) {
    const known = names.length > 0 ? names.join(', ') : 'none';
    throw new CliError(
      `outputs file ${path} holds no outputs of ${stack !== undefined ? `stack ${stack}` : 'one Tally stack'} (stacks in it: ${known}): name one with --stack`,
      EXIT.usage,
    );
  }
  const outputs = stacks[chosen] as Record<string, unknown>;
  return Object.fromEntries(Object.entries(outputs).filter(([, v]) => typeof v === 'string')) as StackOutputs;
}

async function describeStack(name: string, region: string | undefined): Promise<StackOutputs> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({
    ...(region !== undefined ? { region } : {}),
    requestHandler: awsRequestHandler(AWS_API_TIMEOUTS),
  });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: name }));
    const [stack] = Stacks ?? [];
    if (stack === undefined) throw new CliError(`stack ${name} was not found`, EXIT.usage);
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as Error;
    // CloudFormation answers a stack that does not exist with ValidationError "Stack with id X does not exist".
    if (e.name === 'ValidationError' && /does not exist/.test(e.message)) {
      throw new CliError(
        `stack ${name} does not exist in ${await client.config.region()}: check --stack and --region (or AWS_REGION)`,
        EXIT.usage,
      );
    }
    throw new CliError(`could not read the outputs of stack ${name}: ${e.name}: ${e.message}`);
  } finally {
    client.destroy();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
