// The command line on a deployed stack, with CloudFormation and Step Functions answered on loopback:
// `tally start --stack` finds the state machine in the stack's outputs and starts it; `tally
// snowflake-ddl --stack` (or --outputs, the file cdk deploy writes) allows the deployed bucket and names
// the deployed role.
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeConfigFile } from '../../lambdas/config-file';
import { STACK_OUTPUTS } from '../../lib/stack-outputs';
import { DEMO_TABLES, seedDemo } from '../../local/demo-data';
import { localConfig } from '../../local/local-config';
import { scratchFolder, tallyWith } from '../support/cli';
import { type FakeAws, startFakeAws } from '../support/fake-aws';
import { freshDatabase } from '../support/postgres';

const dir = scratchFolder('tally-deployed');
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:PipelineStateMachine1A2B3C';
const ROLE = 'arn:aws:iam::123456789012:role/Tally-SnowflakeStorageRole1A2B3C-XYZ';
const BUCKET = 'tally-pipelinebucket5bc3f8ea-1a2b3c4d5e6f';
const OUTPUTS = {
  [STACK_OUTPUTS.stateMachineArn]: STATE_MACHINE,
  [STACK_OUTPUTS.bucketName]: BUCKET,
  [STACK_OUTPUTS.alertTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:Tally-AlertTopic',
  [STACK_OUTPUTS.snowflakeRoleArn]: ROLE,
};
let aws: FakeAws;

beforeAll(async () => {
  aws = await startFakeAws([{ name: 'Tally', outputs: OUTPUTS }]);
});
afterAll(() => aws?.close());

describe('tally start on a deployed stack', () => {
  it('finds the state machine from the stack by name and starts the pipeline on it', async () => {
    const { code, stdout, stderr } = await tallyWith(
      { env: aws.env() },
      'start',
      '--stack',
      'Tally',
      '--pipeline',
      'historical',
      '--tables',
      'orders',
    );
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toMatch(
      /^arn:aws:states:eu-west-1:123456789012:execution:PipelineStateMachine1A2B3C:historical-manual-[0-9A-Z]{26}$/,
    );
    const started = aws.requests.find((r) => r.action === 'StartExecution');
    expect(JSON.parse(started?.body ?? '{}')).toMatchObject({
      stateMachineArn: STATE_MACHINE,
      input: JSON.stringify({ pipeline: 'historical', tables: ['orders'] }),
    });
    expect(
      aws.requests.some((r) => r.action === 'DescribeStacks' && r.body.includes('StackName=Tally')),
    ).toBe(true);
  });

  it('names a stack that does not exist, with the region it looked in', async () => {
    const { code, stderr } = await tallyWith(
      { env: aws.env() },
      'start',
      '--stack',
      'Nope',
      '--pipeline',
      'incremental',
    );
    expect(code).toBe(2);
    expect(stderr).toContain('stack Nope does not exist in eu-west-1: check --stack and --region');
  });
});

describe('tally snowflake-ddl on a deployed stack', () => {
  let config: string;

  beforeAll(async () => {
    const url = await freshDatabase(`deployed_${process.pid}`);
    await seedDemo(url, { rows: 2, seed: 1 });
    config = dir.file('tally.json');
    await writeConfigFile(config, localConfig({ ...inject('stack'), postgres: { url } }, DEMO_TABLES));
  }, 120_000);

  const expectDeployedIntegration = (stdout: string) => {
    expect(stdout).toContain(`STORAGE_AWS_ROLE_ARN = '${ROLE}'`);
    expect(stdout).toContain(`STORAGE_ALLOWED_LOCATIONS = ('s3://${BUCKET}/tally/')`);
  };

  it('allows the bucket the stack deployed and names the role it made (DescribeStacks)', async () => {
    const { code, stdout, stderr } = await tallyWith(
      { env: aws.env() },
      'snowflake-ddl',
      '--config',
      config,
      '--stack',
      'Tally',
    );
    expect(code, stderr).toBe(0);
    expectDeployedIntegration(stdout);
    expect(stderr).toContain(`the storage integration allows s3://${BUCKET}/`);
  }, 120_000);

  it('reads the same from the outputs file of cdk deploy --outputs-file', async () => {
    const outputs = dir.file('cdk-outputs.json');
    await writeFile(outputs, JSON.stringify({ Tally: OUTPUTS }, null, 2));
    const { code, stdout, stderr } = await tallyWith(
      { env: aws.env() },
      'snowflake-ddl',
      '--config',
      config,
      '--outputs',
      outputs,
    );
    expect(code, stderr).toBe(0);
    expectDeployedIntegration(stdout);
  }, 120_000);
});
