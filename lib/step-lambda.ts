// One step of the registry as a Lambda function with the project's defaults: Node 24 on ARM64, bundled
// locally with esbuild with its own AWS SDK (names kept so Step Functions can route errors by name, source
// maps on for stack traces), its own log group and role, X-Ray tracing.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stage as CdkStage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/runtime/env';

/** The project's root: entries and the lock file are resolved against it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The module every step's function runs, exporting `handler`; TALLY_STEP says which step. */
export const LAMBDA_ENTRY = fileURLToPath(new URL('../lambdas/handler.ts', import.meta.url));

/** The Lambda runtime every step runs on; the Node 24 test tier runs the same major (see README). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** esbuild's target for that runtime. */
export const BUNDLE_TARGET = 'node24';

/**
 * What a function in a VPC needs to create and remove its network interfaces, and nothing else: the
 * managed AWSLambdaVPCAccessExecutionRole would also grant log writes to every log group. Lambda's guide
 * ("Giving Lambda functions access to resources in an Amazon VPC") lists these actions;
 * DescribeNetworkInterfaces and DescribeSubnets work only on all resources.
 */
export const NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;
export const NETWORK_DESCRIBE_ACTIONS = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'] as const;

export interface StepLambdaProps {
  /** The registry entry the function runs (its TALLY_STEP). */
  readonly step: string;
  /**
   * The module the function runs, exporting `handler`.
   * @default LAMBDA_ENTRY, the steps' one entry
   */
  readonly entry?: string;
  readonly description: string;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables besides the ones the project's defaults set.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Files written into the bundle beside the handler, by name: what is too large for the environment
   * (Lambda allows 4 KB of it), such as the configuration of many tables. Their content is part of the
   * code asset, so a change deploys new code.
   * @default none
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
  /**
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Key that encrypts the log group.
   * @default CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * VPC to run in, e.g. to reach PostgreSQL on EC2.
   * @default not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * @default the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * @default none (only used with `vpc`)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class StepLambda extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The files the bundle carries beside the handler, by name (`StepLambdaProps.bundledFiles`). */
  readonly bundledFiles: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: StepLambdaProps) {
    super(scope, id);
    this.bundledFiles = props.bundledFiles ?? {};
    const memorySize = props.memorySize ?? 512;
    const timeout = props.timeout ?? Duration.minutes(5);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: logRetention,
      removalPolicy,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });

    // An own role instead of AWSLambdaBasicExecutionRole, whose log permissions cover every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpc) this.allowNetworkInterfaces();

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry ?? LAMBDA_ENTRY,
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      environment: {
        ...props.environment,
        [ENV.step]: props.step,
        // The bundle carries source maps; Node uses them for stack traces only when told to.
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...(props.vpc
        ? {
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            ...(props.securityGroups ? { securityGroups: props.securityGroups } : {}),
          }
        : {}),
      bundling: {
        forceDockerBundling: false,
        keepNames: true,
        sourceMap: true,
        minify: false,
        target: BUNDLE_TARGET,
        // The runtime's own SDK is whatever version Lambda ships, and snowflake-sdk requires SDK packages
        // the runtime may lack (ec2-metadata-service, client-sts) when it is imported: each bundle carries
        // the project's SDK instead (middy's and the SDK team's advice for bundled functions).
        bundleAwsSDK: true,
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies (snowflake-sdk and its own) call require() for Node's built-in
        // modules and read __dirname, neither of which an ES module has.
        banner: [
          "import { createRequire as tallyCreateRequire } from 'node:module';",
          "import { fileURLToPath as tallyFileURLToPath } from 'node:url';",
          'const require = tallyCreateRequire(import.meta.url);',
          'const __filename = tallyFileURLToPath(import.meta.url);',
          "const __dirname = tallyFileURLToPath(new URL('.', import.meta.url));",
        ].join(' '),
        ...(props.bundledFiles && Stack.of(this).bundlingRequired
          ? { commandHooks: copyInto(stagedFiles(this, props.bundledFiles)) }
          : {}),
        // When the stack is synthesized without bundling (only the definition is wanted), a fixed
        // hash spares fingerprinting the whole project directory.
        ...(Stack.of(this).bundlingRequired ? {} : { assetHash: `unbundled-${id}` }),
      },
    });

    // X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }

  /** The network-interface permissions alone, on this account's and region's EC2 resources. */
  private allowNetworkInterfaces(): void {
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NetworkInterfaces',
        actions: [...NETWORK_INTERFACE_ACTIONS],
        resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeNetworkInterfaces',
        actions: [...NETWORK_DESCRIBE_ACTIONS],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]`,
      reason:
        'A function in a VPC creates, deletes and re-addresses its network interfaces, whose ids are only known when Lambda makes them; the grant is limited to this account and region.',
    });
  }

  /**
   * Lets the function read the secret and tells it where the secret is. With `encryptionKey` (the
   * customer-managed key of an imported secret), the role may decrypt with it only in requests Secrets
   * Manager makes for it: GetSecretValue needs kms:Decrypt (KMS Developer Guide, "How AWS Secrets Manager
   * uses AWS KMS"), and the kms:ViaService condition keeps the key from decrypting anything else.
   */
  useSecret(secret: secretsmanager.ISecret, environmentVariable: string, encryptionKey?: kms.IKey): void {
    secret.grantRead(this.role);
    if (encryptionKey) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
    this.function.addEnvironment(environmentVariable, secret.secretArn);
  }
}

/**
 * Writes each file at synth into the cloud assembly's folder (cdk.out), named by a hash of its content,
 * to be copied into the bundle: functions bundling the same file share one copy.
 */
function stagedFiles(scope: Construct, files: Readonly<Record<string, string>>): string[] {
  const outdir = CdkStage.of(scope)?.outdir;
  if (outdir === undefined) throw new Error('a bundled file needs the construct to be inside a CDK app');
  return Object.entries(files).map(([name, content]) => {
    if (basename(name) !== name)
      throw new Error(`a bundled file is named by its file name alone, got '${name}'`);
    const dir = join(
      outdir,
      'bundled-files',
      createHash('sha256').update(content).digest('hex').slice(0, 16),
    );
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  });
}

/** Bundling hooks that copy `paths` into the bundle's folder once esbuild has written it. */
function copyInto(paths: readonly string[]): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => paths.map((path) => `cp "${path}" "${outputDir}"`),
  };
}
