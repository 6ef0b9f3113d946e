// Builds a step's Lambda handler: the step named by TALLY_STEP, the configuration read at cold start (a
// bad one fails there, naming the setting), credentials from Secrets Manager read through a cache (a
// refused sign-in reads them again once, so a rotation is picked up at once), Powertools logging, the
// steps' embedded metrics, and the step clock its Snowflake statements are held to.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InvalidConfigError, SourceAuthError, WarehouseAuthError } from '../domain/errors';
import { withStepClock } from '../step-clock';
import { STEP_NAMES, STEPS, type StepName } from '../steps/registry';
import { ENV, loadRuntimeSettings, type RuntimeSettings } from './env';
import type { PortFactories } from './lazy-ports';
import { DEFAULT_METRICS_SERVICE, METRICS_NAMESPACE, METRICS_SERVICE_ENV } from './metric-names';
import { type TallyContext, tallyRuntime } from './middleware';
import { Runtime } from './runtime';
import {
  checkpointKeyStore,
  createSecretsClient,
  fetchSecrets,
  type SecretIds,
  SecretStore,
} from './secrets';
import { stepMetrics } from './step-metrics';

/** How long a fetched secret is trusted before it is read again (a rotation is picked up within it). */
const SECRET_CACHE_MS = 15 * 60 * 1000;

export interface HandlerOptions {
  /**
   * The Secrets Manager client; tests and local runs give one with an explicit endpoint and credentials.
   * @default `createSecretsClient()`, configured by the Lambda environment
   */
  readonly secretsClient?: Pick<SecretsManagerClient, 'send'>;
  /**
   * Where the step's embedded metrics go; `false` for none. A test that asks for them gives a Metrics
   * made with POWERTOOLS_DEV=true and POWERTOOLS_METRICS_DISABLED=false, whose output it can read.
   * @default in Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME), metrics in the Tally namespace written
   * to standard output, which Lambda sends to CloudWatch Logs; anywhere else none, so tests
   * and scripts that build a handler print no metric documents
   */
  readonly metrics?: Metrics | false;
}

export function createHandler(
  factories: PortFactories,
  env: NodeJS.ProcessEnv = process.env,
  options: HandlerOptions = {},
) {
  const step = stepNamed(env[ENV.step]);
  const settings = loadRuntimeSettings(env, {
    signsInToWarehouse: (STEPS[step].secrets as readonly string[]).includes('snowflake'),
  });
  const runtime = new Runtime(settings, factories);
  const logger = new Logger({ serviceName: 'tally' });
  const client = options.secretsClient ?? createSecretsClient();
  const store = secretStore(settings, client);
  const checkpointStore = checkpointKeyStore(settings.checkpointSecretArn, client);
  // The middleware below puts the step's dependencies on the context before the step runs. The step runs
  // on a clock of the time the invocation has left, which its Snowflake statements are held to (middy's
  // before and after hooks cannot wrap the step in it, so the handler itself does).
  const base = async (event: unknown, context: Context) => {
    const tally = context as TallyContext;
    const run = () =>
      withStepClock(context.getRemainingTimeInMillis(), () => STEPS[step].run(event, tally.tally));
    try {
      return await run();
    } catch (err) {
      if (!store || !(err instanceof SourceAuthError || err instanceof WarehouseAuthError)) throw err;
      // A refused sign-in with cached credentials may be a rotation: read the secrets again, once, and
      // run the step with the new ones; with the same values the refusal stands.
      const { secrets, changed } = await store.refresh();
      if (!changed) throw err;
      logger.info('credentials changed in Secrets Manager since they were cached; running again with them', {
        errorName: err.name,
      });
      tally.tally = runtime.deps({ ...(await checkpointStore?.get()), ...secrets }, logger);
      return run();
    }
  };
  const handler = middy<unknown, unknown, Error, Context>(base).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  const stores = [store, checkpointStore].filter((s): s is SecretStore => s !== undefined);
  if (stores.length > 0) handler.use(fetchSecrets(...stores));
  handler.use(tallyRuntime(STEPS[step].functionName, runtime, logger));
  const metrics = options.metrics ?? defaultMetrics(env);
  // Last, so that its before and after hooks run closest to the step and time the step alone.
  if (metrics) handler.use(stepMetrics({ step, metrics, logger }));
  return handler;
}

function defaultMetrics(env: NodeJS.ProcessEnv): Metrics | false {
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) return false;
  return new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: env[METRICS_SERVICE_ENV] || DEFAULT_METRICS_SERVICE,
  });
}

/** The credentials' secrets, read through a cache (the checkpoint key has its own store). */
function secretStore(
  settings: RuntimeSettings,
  client: Pick<SecretsManagerClient, 'send'>,
): SecretStore | undefined {
  const ids: SecretIds = {
    ...(settings.postgresSecretArn ? { postgres: settings.postgresSecretArn } : {}),
    ...(settings.snowflakeSecretArn ? { snowflake: settings.snowflakeSecretArn } : {}),
  };
  if (Object.keys(ids).length === 0) return undefined;
  return new SecretStore(ids, client, SECRET_CACHE_MS);
}

function stepNamed(name: string | undefined): StepName {
  if (name !== undefined && (STEP_NAMES as readonly string[]).includes(name)) return name as StepName;
  throw new InvalidConfigError(
    `${ENV.step} ${name === undefined ? 'is not set' : `is '${name}'`}: it must name the step this function runs, one of ${STEP_NAMES.join(', ')}`,
  );
}
