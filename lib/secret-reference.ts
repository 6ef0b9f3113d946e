// An existing Secrets Manager secret named at deploy, by name or by ARN: the one way the stack and the
// pipeline import a secret they do not create.
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * The secret `nameOrArn` names. Secrets Manager appends six random characters to a secret's ARN; an ARN
 * without them is partial, and IAM then matches it with a wildcard.
 */
export function secretNamed(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
