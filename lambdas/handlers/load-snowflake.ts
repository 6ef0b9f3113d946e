// Lambda entry of the LoadSnowflake state: the loadSnowflake step behind the project's middleware.
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { STATE } from '../steps/contract';
import { loadSnowflake } from '../steps/load-snowflake';

export const handler = createHandler(STATE.loadSnowflake, loadSnowflake, ADAPTERS);
