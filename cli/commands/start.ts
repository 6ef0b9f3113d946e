// `tally start`: starts an execution of the deployed state machine in AWS and prints its ARN. The state
// machine is named by its ARN or found from the stack's outputs (--stack, --outputs).
import type { Command } from 'commander';
import { ulid } from 'ulid';
import { AWS_API_TIMEOUTS, awsRequestHandler } from '../../lambdas/adapters/aws-http';
import type { ExecutionInput } from '../../lambdas/steps/contract';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { CliError, EXIT, type ExecutionOptions, executionInputOf, withExecutionOptions } from '../common';
import {
  outputsSource,
  readStackOutputs,
  type StackOptions,
  stackOptions,
  stackOutput,
} from '../stack-outputs';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

interface StartOptions extends ExecutionOptions, StackOptions {
  stateMachineArn?: string;
}

export function registerStart(program: Command): void {
  const command = withExecutionOptions(
    program
      .command('start')
      .description('start an execution of the deployed state machine (AWS Step Functions) and print its ARN'),
  ).option(
    '--state-machine-arn <arn>',
    'the state machine the Tally stack deployed (its output StateMachineArn), instead of --stack or --outputs',
  );
  for (const option of stackOptions()) command.addOption(option);
  command.action(async (options: StartOptions) => {
    const request = startRequest({ ...options, stateMachineArn: await stateMachineArnOf(options) });
    const { SFNClient, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    const client = new SFNClient({
      region: request.region,
      requestHandler: awsRequestHandler(AWS_API_TIMEOUTS),
    });
    try {
      const { executionArn } = await client.send(
        new StartExecutionCommand({
          stateMachineArn: request.stateMachineArn,
          name: request.name,
          input: JSON.stringify(request.input),
        }),
      );
      console.log(executionArn);
    } catch (err) {
      const e = err as Error;
      throw new CliError(`could not start the execution: ${e.name}: ${e.message}`);
    } finally {
      client.destroy();
    }
  });
}

/** The state machine to start: --state-machine-arn, or the StateMachineArn output of --stack / --outputs. */
export async function stateMachineArnOf(options: StartOptions): Promise<string> {
  const fromStack = options.stack !== undefined || options.outputs !== undefined;
  if (options.stateMachineArn !== undefined) {
    if (fromStack) {
      throw new CliError(
        'give --state-machine-arn or --stack/--outputs, not both: the stack names its own state machine',
        EXIT.usage,
      );
    }
    return options.stateMachineArn;
  }
  const outputs = await readStackOutputs(options);
  if (outputs === undefined) {
    throw new CliError(
      'name the state machine: --stack NAME (the deployed Tally stack), --outputs FILE (cdk deploy --outputs-file) or --state-machine-arn ARN',
      EXIT.usage,
    );
  }
  return stackOutput(outputs, STACK_OUTPUTS.stateMachineArn, outputsSource(options));
}

/** Checks the arguments before anything touches the network. */
export function startRequest(options: StartOptions & { stateMachineArn: string }): {
  stateMachineArn: string;
  region: string;
  name: string;
  input: ExecutionInput;
} {
  const match = STATE_MACHINE_ARN.exec(options.stateMachineArn);
  if (!match) {
    throw new CliError(
      `--state-machine-arn '${options.stateMachineArn}' is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)`,
      EXIT.usage,
    );
  }
  // The client calls the region the state machine lives in, which its ARN names.
  const region = match[1] as string;
  const input = executionInputOf(options);
  return {
    stateMachineArn: options.stateMachineArn,
    region,
    name: `${options.pipeline}-manual-${ulid()}`,
    input,
  };
}
