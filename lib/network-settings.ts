// The network settings of the Tally stack as the CDK app reads them from context (`-c vpcId=...`), checked
// before anything is built so that a wrong id or a missing companion setting names itself.
import { InvalidConfigError } from '../lambdas/domain/errors';
import { VPC_ENDPOINTS, type VpcEndpointName } from './tally-network';

export interface NetworkSettings {
  /** The VPC PostgreSQL runs in. */
  readonly vpcId: string;
  /**
   * The functions' subnets. Given, nothing is looked up (synth needs no AWS access); not given, the VPC
   * is looked up in the account and region the AWS CLI points at (cached in cdk.context.json) and its
   * private subnets with a NAT route are used, or else its isolated ones.
   */
  readonly subnetIds?: readonly string[];
  /** The availability zone of each subnet in `subnetIds`, in the same order. */
  readonly availabilityZones?: readonly string[];
  /** The route table of each subnet (or one for all): needed for the S3 gateway endpoint. */
  readonly routeTableIds?: readonly string[];
  /** A security group for the functions instead of a new one. */
  readonly securityGroupId?: string;
  /** PostgreSQL's security group, which gets the ingress rule from the functions' group. */
  readonly postgresSecurityGroupId?: string;
  /** VPC endpoints to create. */
  readonly vpcEndpoints?: readonly VpcEndpointName[];
  /** Whether subnets given by id route to the internet through a NAT gateway. */
  readonly natRoute?: boolean;
}

/** The context keys, for messages and the README. */
export const NETWORK_CONTEXT_KEYS = [
  'vpcId',
  'subnetIds',
  'availabilityZones',
  'routeTableIds',
  'securityGroupId',
  'postgresSecurityGroupId',
  'vpcEndpoints',
  'natRoute',
] as const;

const ID_PATTERNS: Readonly<Record<string, RegExp>> = {
  vpcId: /^vpc-[0-9a-f]{8,17}$/,
  subnetIds: /^subnet-[0-9a-f]{8,17}$/,
  routeTableIds: /^rtb-[0-9a-f]{8,17}$/,
  securityGroupId: /^sg-[0-9a-f]{8,17}$/,
  postgresSecurityGroupId: /^sg-[0-9a-f]{8,17}$/,
  availabilityZones: /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/,
};

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function checkIds(key: string, values: readonly string[] | undefined): void {
  const pattern = ID_PATTERNS[key];
  for (const value of values ?? []) {
    if (pattern && !pattern.test(value)) {
      throw new InvalidConfigError(`-c ${key}: '${value}' is not ${describePattern(key)}`);
    }
  }
}

function describePattern(key: string): string {
  if (key === 'availabilityZones') return 'an availability zone name such as eu-west-1a';
  const prefix = ID_PATTERNS[key]?.source.slice(1).split('-')[0];
  return `an id of the form ${prefix}-0123456789abcdef0`;
}

/** The network settings the context holds; undefined when the functions run outside any VPC. */
export function networkSettings(context: (key: string) => string | undefined): NetworkSettings | undefined {
  const vpcId = context('vpcId');
  if (vpcId === undefined) {
    const stray = NETWORK_CONTEXT_KEYS.filter((key) => key !== 'vpcId' && context(key) !== undefined);
    if (stray.length > 0) {
      throw new InvalidConfigError(
        `-c ${stray.join(', -c ')} need -c vpcId: name the VPC the functions run in`,
      );
    }
    return undefined;
  }
  checkIds('vpcId', [vpcId]);
  const subnetIds = list(context('subnetIds'));
  const availabilityZones = list(context('availabilityZones'));
  const routeTableIds = list(context('routeTableIds'));
  const securityGroupId = context('securityGroupId');
  const postgresSecurityGroupId = context('postgresSecurityGroupId');
  const endpoints = list(context('vpcEndpoints'));
  const nat = context('natRoute');
  checkIds('subnetIds', subnetIds);
  checkIds('availabilityZones', availabilityZones);
  checkIds('routeTableIds', routeTableIds);
  checkIds('securityGroupId', securityGroupId === undefined ? undefined : [securityGroupId]);
  checkIds(
    'postgresSecurityGroupId',
    postgresSecurityGroupId === undefined ? undefined : [postgresSecurityGroupId],
  );
  for (const endpoint of endpoints ?? []) {
    if (!(VPC_ENDPOINTS as readonly string[]).includes(endpoint)) {
      throw new InvalidConfigError(
        `-c vpcEndpoints: '${endpoint}' is not one of ${VPC_ENDPOINTS.join(', ')}`,
      );
    }
  }
  if (nat !== undefined && nat !== 'true' && nat !== 'false') {
    throw new InvalidConfigError(`-c natRoute is true or false, not '${nat}'`);
  }
  if (subnetIds === undefined) {
    for (const key of ['availabilityZones', 'routeTableIds', 'natRoute'] as const) {
      if (context(key) !== undefined) {
        throw new InvalidConfigError(
          `-c ${key} describes subnets given by id: give -c subnetIds too, or leave it out and let the VPC be looked up`,
        );
      }
    }
  } else {
    if (availabilityZones?.length !== subnetIds.length) {
      throw new InvalidConfigError(
        `-c availabilityZones must name the zone of each of the ${subnetIds.length} subnets in -c subnetIds, in the same order`,
      );
    }
    if (
      routeTableIds !== undefined &&
      routeTableIds.length !== 1 &&
      routeTableIds.length !== subnetIds.length
    ) {
      throw new InvalidConfigError(
        `-c routeTableIds must name one route table for all subnets or one per subnet (${subnetIds.length})`,
      );
    }
    if (endpoints?.includes('s3') && routeTableIds === undefined) {
      throw new InvalidConfigError(
        "-c vpcEndpoints=s3 adds a route to the subnets' route tables: give them with -c routeTableIds",
      );
    }
  }
  return {
    vpcId,
    ...(subnetIds !== undefined ? { subnetIds } : {}),
    ...(availabilityZones !== undefined ? { availabilityZones } : {}),
    ...(routeTableIds !== undefined ? { routeTableIds } : {}),
    ...(securityGroupId !== undefined ? { securityGroupId } : {}),
    ...(postgresSecurityGroupId !== undefined ? { postgresSecurityGroupId } : {}),
    ...(endpoints !== undefined ? { vpcEndpoints: endpoints as VpcEndpointName[] } : {}),
    ...(nat !== undefined ? { natRoute: nat === 'true' } : {}),
  };
}

/**
 * The account and region a VPC lookup needs: the ones the AWS CLI's profile gives (`cdk` sets
 * CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION from it). CDK looks nothing up for an environment-agnostic
 * stack (https://docs.aws.amazon.com/cdk/v2/guide/environments.html), so only a lookup fixes them.
 */
export function lookupEnvironment(
  settings: NetworkSettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { account: string; region: string } | undefined {
  if (settings === undefined || settings.subnetIds !== undefined) return undefined;
  const account = env.CDK_DEFAULT_ACCOUNT;
  const region = env.CDK_DEFAULT_REGION;
  if (!account || !region) {
    throw new InvalidConfigError(
      `-c vpcId=${settings.vpcId} without -c subnetIds looks the VPC up, which needs the account and region: run cdk with AWS credentials (it sets CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION), or give -c subnetIds and -c availabilityZones, which need no lookup`,
    );
  }
  return { account, region };
}
