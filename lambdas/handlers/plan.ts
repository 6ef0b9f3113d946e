// Lambda entry of the Plan state: the plan step behind the project's middleware.
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { STATE } from '../steps/contract';
import { plan } from '../steps/plan';

export const handler = createHandler(STATE.plan, plan, ADAPTERS);
