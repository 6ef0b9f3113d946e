// The functions' network: a VPC given with its subnets by id synthesizes offline; one given by id alone
// is looked up (account and region needed, the lookup's answer supplied as context here); PostgreSQL's
// group gets the ingress rule; VPC endpoints; warnings when the subnets reach neither AWS nor Snowflake.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config';
import { InvalidConfigError } from '../../lambdas/domain/errors';
import { lookupEnvironment, type NetworkSettings, networkSettings } from '../../lib/network-settings';
import { TallyStack } from '../../lib/tally-stack';
import { buildStack, NO_BUNDLING, newApp, render, resourcesOf, TEST_CONFIG } from '../support/cdk';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
const ZONES = ['eu-west-1a', 'eu-west-1b'];
const ROUTES = ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'];
const PG_GROUP = 'sg-0ccccccccccccccc3';
const ENV = { account: '123456789012', region: 'eu-west-1' };

const byId: NetworkSettings = { vpcId: VPC, subnetIds: SUBNETS, availabilityZones: ZONES };

function stackWith(network: NetworkSettings, app: App = newApp(), config = TEST_CONFIG): TallyStack {
  return new TallyStack(app, 'Tally', { config, network });
}

const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue());
const warningText = (stack: Stack) =>
  warnings(stack)
    .map((w) => String(w.entry.data))
    .join('\n');

/** The answer CDK's vpc-provider gives for a VPC whose subnets are all of one type. */
function lookedUpVpc(type: 'Private' | 'Isolated' | 'Public') {
  return {
    vpcId: VPC,
    vpcCidrBlock: '10.0.0.0/16',
    ownerAccountId: ENV.account,
    availabilityZones: [],
    subnetGroups: [
      {
        name: type,
        type,
        subnets: SUBNETS.map((subnetId, i) => ({
          subnetId,
          cidr: `10.0.${i}.0/24`,
          availabilityZone: ZONES[i],
          routeTableId: ROUTES[i],
        })),
      },
    ],
  };
}

/** Builds the looked-up stack twice: once to learn the context key the lookup asks for, then with its answer. */
function lookedUpStack(
  type: 'Private' | 'Isolated' | 'Public',
  network: Partial<NetworkSettings> = {},
): TallyStack {
  const probe = new App({ context: NO_BUNDLING });
  new TallyStack(probe, 'Tally', { config: TEST_CONFIG, network: { vpcId: VPC, ...network }, env: ENV });
  const missing = probe.synth().manifest.missing ?? [];
  const key = missing.find((m) => m.provider === 'vpc-provider')?.key;
  expect(key, 'the stack asks CDK for the VPC').toBeDefined();
  const app = new App({ context: { ...NO_BUNDLING, [key as string]: lookedUpVpc(type) } });
  return new TallyStack(app, 'Tally', { config: TEST_CONFIG, network: { vpcId: VPC, ...network }, env: ENV });
}

describe('network: a VPC with subnets given by id', () => {
  it('synthesizes with no account, region or lookup, and puts every function in those subnets', () => {
    const stack = stackWith({ ...byId, natRoute: true });
    const functions = resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThan(0);
    for (const fn of Object.values(functions)) {
      const vpcConfig = fn.Properties?.VpcConfig as { SubnetIds: string[]; SecurityGroupIds: unknown[] };
      expect(vpcConfig.SubnetIds).toEqual(SUBNETS);
      expect(render(vpcConfig.SecurityGroupIds)).toMatch(/NetworkFunctionsSecurityGroup/);
    }
    expect(warnings(stack)).toEqual([]);
  });

  it("outputs the functions' security group, and uses a group given by id without adding rules to it", () => {
    const created = Template.fromStack(stackWith(byId));
    expect(render(created.findOutputs('FunctionsSecurityGroupId'))).toMatch(
      /NetworkFunctionsSecurityGroup.*GroupId/,
    );
    const given = 'sg-0ddddddddddddddd4';
    const template = Template.fromStack(stackWith({ ...byId, securityGroupId: given }));
    template.hasOutput('FunctionsSecurityGroupId', { Value: given });
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroup')).toEqual({});
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')).toEqual({});
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      expect(((fn.Properties?.VpcConfig ?? {}) as { SecurityGroupIds: unknown }).SecurityGroupIds).toEqual([
        given,
      ]);
    }
  });

  it("lets the functions' group into PostgreSQL's security group on PostgreSQL's port", () => {
    const template = Template.fromStack(stackWith({ ...byId, postgresSecurityGroupId: PG_GROUP }));
    const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'));
    expect(ingress).toHaveLength(1);
    expect(ingress[0]?.Properties).toMatchObject({
      GroupId: PG_GROUP,
      IpProtocol: 'tcp',
      FromPort: 5433,
      ToPort: 5433,
    });
    expect(render(ingress[0]?.Properties?.SourceSecurityGroupId)).toMatch(
      /NetworkFunctionsSecurityGroup.*GroupId/,
    );
  });

  it('creates an S3 gateway endpoint on the route tables and a Secrets Manager interface endpoint the functions may reach', () => {
    const stack = stackWith({ ...byId, routeTableIds: ROUTES, vpcEndpoints: ['s3', 'secretsmanager'] });
    const template = Template.fromStack(stack);
    const endpoints = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'));
    const gateway = endpoints.find((e) => e.Properties?.VpcEndpointType === 'Gateway');
    const iface = endpoints.find((e) => e.Properties?.VpcEndpointType === 'Interface');
    expect(render(gateway?.Properties?.ServiceName)).toContain('.s3');
    expect(gateway?.Properties?.RouteTableIds).toEqual(ROUTES);
    expect(render(iface?.Properties?.ServiceName)).toContain('secretsmanager');
    expect(iface?.Properties).toMatchObject({ PrivateDnsEnabled: true, SubnetIds: SUBNETS });
    const rules = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'));
    expect(rules.map((r) => [r.Properties?.FromPort, render(r.Properties?.SourceSecurityGroupId)])).toEqual([
      [443, expect.stringMatching(/NetworkFunctionsSecurityGroup/)],
    ]);
    // With both endpoints, only Snowflake still needs a NAT.
    expect(warningText(stack)).not.toMatch(/no VPC endpoint/);
    expect(warningText(stack)).toMatch(/Snowflake is on the internet/);
  });

  it('warns, when the subnets are not said to route through a NAT, that AWS services and Snowflake are out of reach', () => {
    const text = warningText(stackWith(byId));
    expect(text).toMatch(/not known at synth time \(say -c natRoute=true/);
    expect(text).toMatch(/no VPC endpoint for s3, secretsmanager/);
    expect(text).toMatch(/-c vpcEndpoints=s3,secretsmanager/);
    expect(text).toMatch(/NAT gateway, or through AWS PrivateLink/);
  });

  it('says nothing about Snowflake when it is reached over PrivateLink', () => {
    const config = parseConfig({
      ...TEST_CONFIG,
      snowflake: { ...TEST_CONFIG.snowflake, account: 'xy12345.eu-west-1.privatelink' },
    });
    const stack = stackWith(
      { ...byId, routeTableIds: ROUTES, vpcEndpoints: ['s3', 'secretsmanager'] },
      newApp(),
      config,
    );
    expect(warnings(stack)).toEqual([]);
  });

  it('passes cdk-nag with endpoints and both security groups', () => {
    const app = newApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    stackWith(
      {
        ...byId,
        routeTableIds: ROUTES,
        vpcEndpoints: ['s3', 'secretsmanager'],
        postgresSecurityGroupId: PG_GROUP,
      },
      app,
    );
    const report = JSON.parse(
      readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: { violations: { ruleName: string }[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName))).toEqual([]);
  });
});

describe('network: a VPC given by id alone is looked up', () => {
  it('needs the account and region, and says how to do without the lookup', () => {
    expect(() => buildStack({ network: { vpcId: VPC } })).toThrow(InvalidConfigError);
    expect(() => buildStack({ network: { vpcId: VPC } })).toThrow(
      /give the subnet ids and their availability zones/,
    );
    expect(() => lookupEnvironment({ vpcId: VPC }, {})).toThrow(/CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION/);
    expect(
      lookupEnvironment({ vpcId: VPC }, { CDK_DEFAULT_ACCOUNT: ENV.account, CDK_DEFAULT_REGION: ENV.region }),
    ).toEqual(ENV);
    expect(lookupEnvironment(byId, {})).toBeUndefined();
  });

  it('uses the private subnets with a NAT route, with no warning about routes', () => {
    const stack = lookedUpStack('Private');
    for (const fn of Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'))) {
      expect(((fn.Properties?.VpcConfig ?? {}) as { SubnetIds: string[] }).SubnetIds).toEqual(SUBNETS);
    }
    expect(warnings(stack)).toEqual([]);
  });

  it('falls back to isolated subnets, and warns that they have no NAT route', () => {
    const stack = lookedUpStack('Isolated');
    for (const fn of Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function'))) {
      expect(((fn.Properties?.VpcConfig ?? {}) as { SubnetIds: string[] }).SubnetIds).toEqual(SUBNETS);
    }
    expect(warningText(stack)).toMatch(
      /The chosen subnets have no NAT route, and no VPC endpoint for s3, secretsmanager/,
    );
  });

  it('creates the S3 gateway endpoint on the looked-up route tables', () => {
    const template = Template.fromStack(lookedUpStack('Isolated', { vpcEndpoints: ['s3'] }));
    const [gateway] = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint'));
    expect(gateway?.Properties?.RouteTableIds).toEqual(ROUTES);
  });

  it('refuses a VPC with only public subnets, saying why', () => {
    expect(() => lookedUpStack('Public')).toThrow(
      /only public subnets: a function there gets no public address/,
    );
  });
});

describe('network settings from context', () => {
  const from = (values: Record<string, string>) => networkSettings((key) => values[key]);

  it('reads the lists and flags', () => {
    expect(
      from({
        vpcId: VPC,
        subnetIds: SUBNETS.join(','),
        availabilityZones: ZONES.join(', '),
        routeTableIds: ROUTES[0] as string,
        vpcEndpoints: 's3,secretsmanager',
        postgresSecurityGroupId: PG_GROUP,
        natRoute: 'false',
      }),
    ).toEqual({
      ...byId,
      routeTableIds: [ROUTES[0]],
      vpcEndpoints: ['s3', 'secretsmanager'],
      postgresSecurityGroupId: PG_GROUP,
      natRoute: false,
    });
    expect(from({})).toBeUndefined();
  });

  it('names a wrong or missing setting', () => {
    expect(() => from({ vpcId: 'vpc-xyz' })).toThrow(/-c vpcId: 'vpc-xyz' is not an id of the form vpc-/);
    expect(() => from({ subnetIds: SUBNETS.join(',') })).toThrow(/need -c vpcId/);
    expect(() => from({ vpcId: VPC, subnetIds: SUBNETS.join(',') })).toThrow(
      /-c availabilityZones must name the zone of each of the 2 subnets/,
    );
    expect(() => from({ vpcId: VPC, natRoute: 'true' })).toThrow(/give -c subnetIds too/);
    expect(() => from({ vpcId: VPC, vpcEndpoints: 'sts' })).toThrow(/'sts' is not one of s3, secretsmanager/);
    expect(() =>
      from({
        vpcId: VPC,
        subnetIds: SUBNETS.join(','),
        availabilityZones: ZONES.join(','),
        vpcEndpoints: 's3',
      }),
    ).toThrow(/give them with -c routeTableIds/);
  });
});

describe('stack', () => {
  it('still synthesizes outside any VPC, with no network resources and no security group output', () => {
    const template = Template.fromStack(
      new TallyStack(new App({ context: NO_BUNDLING }), 'Tally', { config: TEST_CONFIG }),
    );
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroup')).toEqual({});
    expect(template.findOutputs('FunctionsSecurityGroupId')).toEqual({});
    void Stack;
  });
});
