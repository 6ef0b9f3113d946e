// The middy middleware that hands a step its dependencies, tags every log line with the state, job and
// table, and after a transient or unnamed failure closes the ports (the PostgreSQL pool ends; a Snowflake
// connection is dropped by its adapter when the failure was its own), so a retry starts clean. It logs no
// payload values beyond ids, counts and names, and never a credential.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { StepDeps } from '../deps';
import { errorName, TallyError } from '../domain/errors';
import type { Secrets } from './credentials';
import type { Runtime } from './runtime';

export interface TallyContext extends Context {
  tally: StepDeps;
  postgresSecret?: unknown;
  snowflakeSecret?: unknown;
  checkpointSecret?: unknown;
}

interface EventShape {
  executionId?: unknown;
  stateName?: unknown;
  attempt?: unknown;
  mode?: unknown;
  state?: { work?: { jobId?: unknown; table?: unknown } };
}

export function tallyRuntime(
  functionName: string,
  runtime: Runtime,
  logger: Logger,
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: async (request) => {
      const event = (request.event ?? {}) as EventShape;
      const work = event.state?.work;
      logger.appendKeys({
        step: functionName,
        state: typeof event.stateName === 'string' ? event.stateName : undefined,
        executionId: typeof event.executionId === 'string' ? event.executionId : undefined,
        attempt: typeof event.attempt === 'number' ? event.attempt : undefined,
        jobId: typeof work?.jobId === 'string' ? work.jobId : undefined,
        table: typeof work?.table === 'string' ? work.table : undefined,
      });
      const context = request.context as TallyContext;
      const secrets: Secrets = {
        ...(context.postgresSecret !== undefined ? { postgres: context.postgresSecret } : {}),
        ...(context.snowflakeSecret !== undefined ? { snowflake: context.snowflakeSecret } : {}),
        ...(context.checkpointSecret !== undefined ? { checkpoint: context.checkpointSecret } : {}),
      };
      context.tally = runtime.deps(secrets, logger);
      logger.info('step started', { mode: typeof event.mode === 'string' ? event.mode : undefined });
    },
    after: async () => {
      logger.info('step finished');
    },
    onError: async (request) => {
      const error = request.error;
      const transient = error instanceof TallyError && error.transient;
      logger.error('step failed', { errorName: errorName(error), errorMessage: error?.message, transient });
      if (transient || !(error instanceof TallyError)) await runtime.reset();
    },
  };
}
