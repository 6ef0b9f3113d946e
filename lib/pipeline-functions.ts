// The step Lambdas, one per entry of the step registry, with what the registry says each may use: its
// timeout and memory, the secrets it reads and the S3 prefixes it reads and writes (`prefix-grants.ts`).
import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from '../lambdas/runtime/env';
import { mapSteps, STEPS, type StepName, type StepSecret } from '../lambdas/steps/registry';
import { acknowledgeBucketGrant } from './nag-acknowledgements';
import { grantPrefixes, prefixPath } from './prefix-grants';
import { StepLambda, type StepLambdaProps } from './step-lambda';

/** The function of every step, keyed like the registry. */
export type PipelineFunctions = Readonly<Record<StepName, StepLambda>>;

export interface PipelineFunctionsProps
  extends Omit<StepLambdaProps, 'step' | 'description' | 'memorySize' | 'timeout'> {
  readonly bucket: s3.IBucket;
  /** Tally's prefix in the bucket; a step is granted `<s3Prefix>/<its prefix>/*` for each of its prefixes. */
  readonly s3Prefix: string;
  readonly secrets: Readonly<Record<StepSecret, secretsmanager.ISecret>>;
  /**
   * The customer-managed key the secrets are encrypted with.
   * @default none (Secrets Manager's AWS-managed key)
   */
  readonly secretsKey?: kms.IKey;
  /**
   * The bucket has Object Lock enabled: the audit writers may set a retention on what they mirror.
   * @default false
   */
  readonly objectLock?: boolean;
}

const SECRET_ENV: Readonly<Record<StepSecret, string>> = {
  postgres: ENV.postgresSecretArn,
  snowflake: ENV.snowflakeSecretArn,
  checkpoint: ENV.checkpointSecretArn,
};

/** Creates the step Lambdas in `scope`, each with the construct id the registry names it by. */
export function createPipelineFunctions(scope: Construct, props: PipelineFunctionsProps): PipelineFunctions {
  const { bucket, s3Prefix, secrets, secretsKey, objectLock, ...common } = props;
  return mapSteps((name) => {
    const spec = STEPS[name];
    const fn = new StepLambda(scope, spec.functionName, {
      ...common,
      step: name,
      description: spec.description,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
    });
    for (const secret of spec.secrets) fn.useSecret(secrets[secret], SECRET_ENV[secret], secretsKey);
    grantPrefixes(fn.role, bucket, spec.prefixes, { s3Prefix, objectLock: objectLock ?? false });
    acknowledgeBucketGrant(
      fn,
      bucket,
      spec.prefixes.map((prefix) => prefixPath(s3Prefix, prefix)),
    );
    return fn;
  });
}
