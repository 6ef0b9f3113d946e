// The functions' network when they run in a VPC: their subnets and security group, the rule that lets
// that group into PostgreSQL's, optional VPC endpoints for the AWS services the functions call (S3 and
// Secrets Manager; CloudWatch Logs and X-Ray are reached by the Lambda service, not from the subnets),
// and a synth warning when the subnets can reach neither those services nor Snowflake.
//
// "By default, Lambda functions have access to the public internet. This is not the case after they have
// been configured with access to one of your VPCs ... set up a NAT instance or Amazon NAT Gateway.
// Alternatively, you can also use VPC endpoints" (Lambda Operator Guide, Networking and VPC
// configurations, https://docs.aws.amazon.com/lambda/latest/operatorguide/networking-vpc.html).
import { Annotations, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** The VPC endpoints Tally can create: the AWS services its functions call from their subnets. */
export const VPC_ENDPOINTS = ['s3', 'secretsmanager'] as const;
export type VpcEndpointName = (typeof VPC_ENDPOINTS)[number];

export interface TallyNetworkProps {
  readonly vpc: ec2.IVpc;
  /** The subnets the functions run in. */
  readonly subnets: ec2.SubnetSelection;
  /**
   * Whether those subnets route to the internet through a NAT gateway (or a transit gateway).
   * @default unknown: subnets given by id show no routes at synth time, so the warning says so
   */
  readonly natRoute?: boolean;
  /**
   * The functions' security group.
   * @default a new group with outbound access only
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * PostgreSQL's security group: it gets an ingress rule from the functions' group on `postgresPort`.
   * @default none: allow the functions' group (an output) in PostgreSQL's yourself
   */
  readonly postgresSecurityGroup?: ec2.ISecurityGroup;
  /** The port PostgreSQL listens on. */
  readonly postgresPort: number;
  /**
   * VPC endpoints to create in the VPC. A VPC that has them already must not get a second (an interface
   * endpoint's private DNS name exists once per VPC).
   * @default none
   */
  readonly endpoints?: readonly VpcEndpointName[];
  /**
   * Snowflake is reached over AWS PrivateLink (an account identifier with `.privatelink`), so it needs
   * no NAT route.
   * @default false
   */
  readonly snowflakePrivateLink?: boolean;
}

export class TallyNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** The functions' security group. */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly subnets: ec2.SubnetSelection;
  readonly s3Endpoint?: ec2.GatewayVpcEndpoint;
  readonly secretsManagerEndpoint?: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: TallyNetworkProps) {
    super(scope, id);
    const endpoints = new Set(props.endpoints ?? []);
    this.vpc = props.vpc;
    this.subnets = props.subnets;
    this.securityGroup =
      props.securityGroup ??
      new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
        vpc: props.vpc,
        description: 'Tally functions: reach PostgreSQL, Snowflake, S3 and Secrets Manager',
        // Snowflake (443, and its certificates' OCSP responders on 80), S3 and Secrets Manager.
        allowAllOutbound: true,
      });

    props.postgresSecurityGroup?.addIngressRule(
      this.securityGroup,
      ec2.Port.tcp(props.postgresPort),
      'Tally functions to PostgreSQL',
    );

    if (endpoints.has('s3')) {
      // A gateway endpoint adds a route to the subnets' route tables; it costs nothing, and staged files
      // then cross no NAT (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html).
      this.s3Endpoint = new ec2.GatewayVpcEndpoint(this, 'S3Endpoint', {
        vpc: props.vpc,
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [props.subnets],
      });
    }
    if (endpoints.has('secretsmanager')) {
      const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: props.vpc,
        description: 'Tally: the Secrets Manager endpoint, reached by the functions on 443',
        allowAllOutbound: false,
      });
      // With private DNS the SDK's usual host name resolves to the endpoint's addresses in the VPC
      // (needs the VPC's enableDnsSupport and enableDnsHostnames).
      this.secretsManagerEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
        vpc: props.vpc,
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets: props.subnets,
        securityGroups: [endpointGroup],
        open: false,
        privateDnsEnabled: true,
      });
      this.secretsManagerEndpoint.connections.allowDefaultPortFrom(
        this.securityGroup,
        'Tally functions to Secrets Manager',
      );
    }

    this.warnAboutRoutes(props, endpoints);
  }

  /** Synth warnings for what the subnets cannot reach: AWS services without NAT or endpoints, Snowflake. */
  private warnAboutRoutes(props: TallyNetworkProps, endpoints: ReadonlySet<VpcEndpointName>): void {
    if (props.natRoute === true) return;
    const routes =
      props.natRoute === false
        ? 'The chosen subnets have no NAT route'
        : 'The route tables of subnets given by id are not known at synth time (say -c natRoute=true when they route through a NAT)';
    const missing = VPC_ENDPOINTS.filter((e) => !endpoints.has(e));
    const annotations = Annotations.of(Stack.of(this));
    if (missing.length > 0) {
      annotations.addWarningV2(
        'tally:vpc-no-route-to-aws',
        `${routes}, and no VPC endpoint for ${missing.join(', ')} is created: unless the VPC has one already, the functions cannot reach ${missing.join(' or ')} and every step fails (in seconds, by name). Give subnets with a NAT route, or -c vpcEndpoints=${VPC_ENDPOINTS.join(',')}.`,
      );
    }
    if (props.snowflakePrivateLink !== true) {
      annotations.addWarningV2(
        'tally:vpc-no-route-to-snowflake',
        `${routes}: Snowflake is on the internet, so the functions reach it only through a NAT gateway, or through AWS PrivateLink to Snowflake (Business Critical edition; an account identifier with .privatelink). VPC endpoints do not reach Snowflake.`,
      );
    }
  }
}
