// The cdk-nag findings the pipeline acknowledges, each with the reason it is right as it is: the KMS key
// the Logs service encrypts with, the steps' bucket grants, the state machine's role, and the schedule's
// dead-letter queue.
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { StepLambda } from './step-lambda';

/** CloudWatch Logs encrypts with the key only if the key policy lets the Logs service of this region in. */
export function allowLogsToUse(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
}

/** The object wildcards of a step's grant on its prefixes (`prefix-grants.ts`). */
export function acknowledgeBucketGrant(
  fn: StepLambda,
  bucket: s3.IBucket,
  prefixes: readonly string[],
): void {
  const reason =
    "Scoped to the pipeline bucket and the step's own prefixes under Tally's, with the object actions the step uses: steps write and read part files and audit events whose keys are only known at run time.";
  const bucketArn = Stack.of(fn).resolve(bucket.bucketArn) as { 'Fn::GetAtt'?: [string, string] } | string;
  const arnText = typeof bucketArn === 'string' ? bucketArn : `<${bucketArn['Fn::GetAtt']?.[0]}.Arn>`;
  for (const prefix of prefixes) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arnText}/${prefix}*]`,
      reason,
    });
  }
}

export function acknowledgeStateMachineRole(
  stateMachine: sfn.StateMachine,
  functions: readonly StepLambda[],
  /** The item files the chunks' Distributed Map reads: the bucket, and the key prefix with its slash. */
  itemFiles: { readonly bucket: s3.IBucket; readonly prefix: string },
): void {
  const stack = Stack.of(stateMachine);
  for (const fn of functions) {
    const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnElement);
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason:
        'CDK grants the invoke on the function and its versions and aliases (ARN:*); the state machine calls only these functions.',
    });
  }
  // The chunks' Distributed Map: CDK's policy lets the state machine start, describe and stop its own
  // child executions (an execution name is not known before it starts), and the item file is read from
  // the plans prefix, where CountSource writes one per chunked table and job.
  const machine = stack.getLogicalId(stateMachine.node.defaultChild as CfnElement);
  const ownName = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}`;
  const mapFindings = [
    `Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${ownName}:*`,
    `Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${ownName}/*:*`,
  ];
  const mapPolicy = stateMachine.node.tryFindChild('DistributedMapPolicy');
  for (const finding of mapFindings) {
    for (const scope of [stateMachine.role, ...(mapPolicy ? [mapPolicy] : [])]) {
      Validations.of(scope).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
        reason:
          "A Distributed Map starts, describes and stops child executions of this state machine, whose names are not known before they start; the grant names this state machine's executions only.",
      });
    }
  }
  Validations.of(stateMachine.role).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArnFinding(itemFiles.bucket)}/${itemFiles.prefix}*]`,
    reason:
      "The chunks' Distributed Maps (export, then load) read their item file, one per chunked table and job, under the plans prefix only.",
  });
  for (const finding of ['Resource::*', 'Action::kms:GenerateDataKey*']) {
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
      reason:
        finding === 'Resource::*'
          ? 'Log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing do not support resource-level permissions.'
          : 'Publishing to the KMS-encrypted alert topic needs data keys from its key; the grant names that key only.',
    });
  }
}

/** How cdk-nag writes a bucket's ARN in a finding: a created bucket's by reference, a named one literally. */
function bucketArnFinding(bucket: s3.IBucket): string {
  const created = bucket.node.defaultChild as CfnElement | undefined;
  return created
    ? `<${Stack.of(bucket).getLogicalId(created)}.Arn>`
    : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
}

/** cdk-nag sees a queue with no dead-letter queue of its own; this one is the schedule target's. */
export function acknowledgeDeadLetterQueue(queue: sqs.Queue): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason:
      "This queue is the dead-letter queue of the schedule's EventBridge target: a message in it is already a failed delivery, and its alarm says so.",
  });
}
