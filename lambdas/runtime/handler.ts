// Builds a step's Lambda handler: the step named by TALLY_STEP, the configuration read at cold start (a
// bad one fails there, naming the setting), credentials from Secrets Manager through middy's cached
// middleware, Powertools logging, and the step clock its Snowflake statements are held to.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';
import { AWS_API_TIMEOUTS, awsRequestHandler } from '../adapters/aws-http';
import { InvalidConfigError } from '../domain/errors';
import { withStepClock } from '../step-clock';
import { STEP_NAMES, STEPS, type StepName } from '../steps/registry';
import { ENV, loadRuntimeSettings } from './env';
import type { PortFactories } from './lazy-ports';
import { type TallyContext, tallyRuntime } from './middleware';
import { Runtime } from './runtime';

/** How long a fetched secret is trusted before it is read again (a rotation is picked up within it). */
const SECRET_CACHE_MS = 15 * 60 * 1000;

export function createHandler(factories: PortFactories, env: NodeJS.ProcessEnv = process.env) {
  const step = stepNamed(env[ENV.step]);
  const settings = loadRuntimeSettings(env);
  const runtime = new Runtime(settings, factories);
  const logger = new Logger({ serviceName: 'tally' });
  // The middleware below puts the step's dependencies on the context before the step runs. The step runs
  // on a clock of the time the invocation has left, which its Snowflake statements are held to (middy's
  // before and after hooks cannot wrap the step in it, so the handler itself does).
  const base = (event: unknown, context: Context) =>
    withStepClock(context.getRemainingTimeInMillis(), () =>
      STEPS[step].run(event, (context as TallyContext).tally),
    );
  const handler = middy<unknown, unknown, Error, Context>(base).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  const fetchData: Record<string, string> = {};
  if (settings.postgresSecretArn) fetchData.postgresSecret = settings.postgresSecretArn;
  if (settings.snowflakeSecretArn) fetchData.snowflakeSecret = settings.snowflakeSecretArn;
  if (Object.keys(fetchData).length > 0) {
    handler.use(
      secretsManager({
        fetchData,
        setToContext: true,
        cacheExpiry: SECRET_CACHE_MS,
        // A subnet with no route to Secrets Manager fails the fetch in seconds, not at the Lambda timeout.
        awsClientOptions: { requestHandler: awsRequestHandler(AWS_API_TIMEOUTS) },
      }),
    );
  }
  return handler.use(tallyRuntime(STEPS[step].functionName, runtime, logger));
}

function stepNamed(name: string | undefined): StepName {
  if (name !== undefined && (STEP_NAMES as readonly string[]).includes(name)) return name as StepName;
  throw new InvalidConfigError(
    `${ENV.step} ${name === undefined ? 'is not set' : `is '${name}'`}: it must name the step this function runs, one of ${STEP_NAMES.join(', ')}`,
  );
}
