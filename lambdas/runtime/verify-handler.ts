// The daily audit verification's Lambda handler: verifies the audit chain from the last verified checkpoint
// (its table through the Snowflake secret, its mirror and checkpoints in S3) and publishes an alert to
// the alert topic when it finds a break. A break is also the invocation's failure, so the function's
// error alarm and its logs show it.
import { Logger } from '@aws-lambda-powertools/logger';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { AWS_API_TIMEOUTS, awsRequestHandler } from '../adapters/aws-http';
import { describeVerification, type VerifyResult, verifyAuditChain } from '../audit/verify';
import { InvalidConfigError } from '../domain/errors';
import { withStepClock } from '../step-clock';
import { applySecrets } from './credentials';
import { ENV, loadRuntimeSettings } from './env';
import type { PortFactories } from './lazy-ports';
import { checkpointKeyStore, createSecretsClient, SecretStore } from './secrets';

/** SNS takes at most 256 KB; a break's description is a few lines, kept well under that. */
const MAX_MESSAGE = 8_000;

/** A break found: the invocation fails with it, after the alert is published (no state routes it). */
export class AuditChainBrokenError extends Error {
  override readonly name = 'AuditChainBrokenError';
}

export interface VerifyHandlerOptions {
  readonly secretsClient?: Pick<SecretsManagerClient, 'send'>;
  readonly snsClient?: Pick<SNSClient, 'send'>;
}

export function createVerifyHandler(
  factories: PortFactories,
  env: NodeJS.ProcessEnv = process.env,
  options: VerifyHandlerOptions = {},
) {
  const settings = loadRuntimeSettings(env);
  const topicArn = env[ENV.alertTopicArn];
  if (!topicArn)
    throw new InvalidConfigError(`${ENV.alertTopicArn} is not set: it must name the alert topic`);
  const client = options.secretsClient ?? createSecretsClient();
  const store = settings.snowflakeSecretArn
    ? new SecretStore({ snowflake: settings.snowflakeSecretArn }, client, 15 * 60 * 1000)
    : undefined;
  const checkpointStore = checkpointKeyStore(settings.checkpointSecretArn, client);
  const sns = options.snsClient ?? new SNSClient({ requestHandler: awsRequestHandler(AWS_API_TIMEOUTS) });
  const logger = new Logger({ serviceName: 'tally' });
  return async (_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
    const config = applySecrets(settings.config, {
      ...(await checkpointStore?.get()),
      ...(await store?.get()),
    });
    const warehouse = factories.warehouse(config);
    let result: VerifyResult;
    try {
      result = await withStepClock(context.getRemainingTimeInMillis(), () =>
        verifyAuditChain(
          {
            config,
            ports: { audit: warehouse.audit, stage: factories.stage(config) },
            now: () => new Date(),
          },
          { onProgress: (p) => logger.info('audit verification progress', { checked: p.checked, at: p.at }) },
        ),
      );
    } finally {
      await warehouse.close();
    }
    const summary = describeVerification(result);
    if (result.intact) {
      logger.info('audit log intact', {
        checked: result.checked,
        verifiedCheckpoint: result.verifiedCheckpoint,
      });
      return { intact: true, checked: result.checked, verifiedCheckpoint: result.verifiedCheckpoint };
    }
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'Tally: the audit log failed verification',
        Message:
          `Tally's daily verification of the audit log (${config.snowflake.database}.${config.snowflake.schema}.${config.snowflake.auditTable}) found a break.\n\n${summary}`.slice(
            0,
            MAX_MESSAGE,
          ),
      }),
    );
    logger.error('audit log broken', { break: result.break });
    throw new AuditChainBrokenError(summary.split('\n').slice(0, 2).join(' '));
  };
}
