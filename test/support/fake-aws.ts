// A loopback HTTP server that answers the two AWS calls the command line makes on a deployed stack:
// CloudFormation DescribeStacks (query protocol, XML) and Step Functions StartExecution (JSON 1.0). The
// SDK reaches it through its service-specific endpoint variables (AWS_ENDPOINT_URL_CLOUDFORMATION,
// AWS_ENDPOINT_URL_SFN), so the commands run unchanged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAws {
  readonly endpoint: string;
  /** Every request body received, with the action it named. */
  readonly requests: { action: string; body: string }[];
  /** The environment a child process needs to reach it. */
  env(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface FakeStack {
  readonly name: string;
  readonly outputs: Readonly<Record<string, string>>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function describeStacks(stack: FakeStack, region: string): string {
  const outputs = Object.entries(stack.outputs)
    .map(
      ([k, v]) =>
        `<member><OutputKey>${xmlEscape(k)}</OutputKey><OutputValue>${xmlEscape(v)}</OutputValue></member>`,
    )
    .join('');
  return `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${stack.name}</StackName><StackId>arn:aws:cloudformation:${region}:123456789012:stack/${stack.name}/1</StackId><CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`;
}

function stackMissing(name: string): string {
  return `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>2</RequestId></ErrorResponse>`;
}

export async function startFakeAws(stacks: readonly FakeStack[], region = 'eu-west-1'): Promise<FakeAws> {
  const requests: { action: string; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'AWSStepFunctions.StartExecution') {
        requests.push({ action: 'StartExecution', body });
        const { stateMachineArn, name } = JSON.parse(body) as { stateMachineArn: string; name: string };
        const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ executionArn, startDate: 1_764_547_200 }));
        return;
      }
      const params = new URLSearchParams(body);
      const action = params.get('Action') ?? '?';
      requests.push({ action, body });
      const name = params.get('StackName') ?? '';
      const stack = stacks.find((s) => s.name === name);
      res.writeHead(stack ? 200 : 400, { 'content-type': 'text/xml' });
      res.end(stack ? describeStacks(stack, region) : stackMissing(name));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    requests,
    env() {
      const { TALLY_CONFIG: _ignored, AWS_PROFILE: _profile, ...inherited } = process.env;
      return {
        ...inherited,
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
        AWS_ENDPOINT_URL_SFN: endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
