// The Tally stack's outputs, by name: the stack writes them, and the command line reads them back from
// CloudFormation (`--stack`) or from `cdk deploy --outputs-file` (`--outputs`). Plain names, no CDK import.

export const STACK_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  bucketName: 'BucketName',
  alertTopicArn: 'AlertTopicArn',
  snowflakeRoleArn: 'SnowflakeRoleArn',
  functionsSecurityGroupId: 'FunctionsSecurityGroupId',
  postgresSecretArn: 'PostgresSecretArn',
  snowflakeSecretArn: 'SnowflakeSecretArn',
  checkpointSecretArn: 'CheckpointSecretArn',
  scheduleDeadLetterQueueUrl: 'ScheduleDeadLetterQueueUrl',
  dashboardName: 'DashboardName',
} as const;

export type StackOutputName = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];
