// `tally start`: starts an execution of the deployed state machine in AWS and prints its ARN.
import type { Command } from 'commander';
import { ulid } from 'ulid';
import type { ExecutionInput } from '../../lambdas/steps/contract';
import { CliError, EXIT, type ExecutionOptions, executionInputOf, withExecutionOptions } from '../common';

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

interface StartOptions extends ExecutionOptions {
  stateMachineArn: string;
}

export function registerStart(program: Command): void {
  withExecutionOptions(
    program
      .command('start')
      .description('start an execution of the deployed state machine (AWS Step Functions) and print its ARN'),
  )
    .requiredOption(
      '--state-machine-arn <arn>',
      'the state machine the Tally stack deployed (a stack output)',
    )
    .action(async (options: StartOptions) => {
      const request = startRequest(options);
      const { SFNClient, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
      const client = new SFNClient({ region: request.region });
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

/** Checks the arguments before anything touches the network. */
export function startRequest(options: StartOptions): {
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
