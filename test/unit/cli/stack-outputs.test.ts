// `tally start` and `tally snowflake-ddl` resolve what they act on from the deployed stack's outputs (the
// file `cdk deploy --outputs-file` writes) before any request: which state machine, bucket and role.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromStack } from '../../../cli/commands/snowflake-ddl';
import { stateMachineArnOf } from '../../../cli/commands/start';
import { CliError, EXIT } from '../../../cli/common';
import { parseConfig } from '../../../lambdas/config';
import { STACK_OUTPUTS } from '../../../lib/stack-outputs';

const dir = mkdtempSync(join(tmpdir(), 'tally-outputs-'));
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tally';
const outputsOf = (arn: string) => ({
  [STACK_OUTPUTS.stateMachineArn]: arn,
  [STACK_OUTPUTS.bucketName]: 'tally-deployed-bucket',
  [STACK_OUTPUTS.snowflakeRoleArn]: 'arn:aws:iam::123456789012:role/tally-reader',
});
function outputsFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
async function usageError(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  expect((err as CliError).exitCode).toBe(EXIT.usage);
  return (err as Error).message;
}
const base = { pipeline: 'historical' as const };

describe('tally start: which state machine', () => {
  it('takes the StateMachineArn output of the one stack in the outputs file', async () => {
    const file = outputsFile('one.json', { Tally: outputsOf(ARN) });
    expect(await stateMachineArnOf({ ...base, outputs: file })).toBe(ARN);
  });

  it('takes the named stack when the file holds several, and the Tally one when not named', async () => {
    const other = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Other';
    const file = outputsFile('two.json', {
      Network: { VpcId: 'vpc-1' },
      TallyEu: outputsOf(ARN),
      TallyUs: outputsOf(other),
    });
    expect(await stateMachineArnOf({ ...base, outputs: file, stack: 'TallyUs' })).toBe(other);
    const single = outputsFile('mixed.json', { Network: { VpcId: 'vpc-1' }, Tally: outputsOf(ARN) });
    expect(await stateMachineArnOf({ ...base, outputs: single })).toBe(ARN);
  });

  it('keeps --state-machine-arn working, and refuses it together with --stack', async () => {
    expect(await stateMachineArnOf({ ...base, stateMachineArn: ARN })).toBe(ARN);
    expect(await usageError(stateMachineArnOf({ ...base, stateMachineArn: ARN, stack: 'Tally' }))).toMatch(
      /not both/,
    );
  });

  it('names what is missing', async () => {
    expect(await usageError(stateMachineArnOf(base))).toMatch(
      /--stack NAME .*--outputs FILE .*--state-machine-arn ARN/,
    );
    expect(await usageError(stateMachineArnOf({ ...base, outputs: join(dir, 'absent.json') }))).toMatch(
      /does not exist: write it with cdk deploy --outputs-file/,
    );
    expect(await usageError(stateMachineArnOf({ ...base, outputs: outputsFile('bad.json', '{') }))).toMatch(
      /cannot be read as JSON/,
    );
    const file = outputsFile('wrong.json', { Tally: { BucketName: 'b' } });
    expect(await usageError(stateMachineArnOf({ ...base, outputs: file }))).toMatch(
      /outputs file .*wrong\.json has no output StateMachineArn/,
    );
    expect(await usageError(stateMachineArnOf({ ...base, outputs: file, stack: 'Other' }))).toMatch(
      /holds no outputs of stack Other \(stacks in it: Tally\)/,
    );
  });
});

describe('tally snowflake-ddl: the deployed bucket and role', () => {
  const config = parseConfig({
    tables: [{ name: 'orders', primaryKey: 'id', cursorColumn: 'updated_at' }],
    postgres: { url: 'postgres://u@127.0.0.1/db' },
    s3: { bucket: 'configured-bucket', prefix: 'tally' },
    snowflake: { account: 'a', username: 'u', password: 'p', database: 'D' },
  });

  it('replaces the configured bucket with the deployed one and takes the role from the outputs', async () => {
    const file = outputsFile('ddl.json', { Tally: outputsOf(ARN) });
    const deployed = await fromStack(config, { outputs: file });
    expect(deployed.config.s3).toMatchObject({ bucket: 'tally-deployed-bucket', prefix: 'tally' });
    expect(deployed.awsRoleArn).toBe('arn:aws:iam::123456789012:role/tally-reader');
  });

  it('leaves the configuration alone without --stack or --outputs, and refuses a role given twice', async () => {
    expect(await fromStack(config, {})).toEqual({ config });
    const file = outputsFile('ddl2.json', { Tally: outputsOf(ARN) });
    expect(
      await usageError(fromStack(config, { outputs: file, awsRoleArn: 'arn:aws:iam::1:role/x' })),
    ).toMatch(/--aws-role-arn or --stack\/--outputs, not both/);
  });
});
