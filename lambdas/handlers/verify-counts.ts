// Lambda entry of the VerifyCounts state: the verifyCounts step behind the project's middleware.
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { STATE } from '../steps/contract';
import { verifyCounts } from '../steps/verify-counts';

export const handler = createHandler(STATE.verifyCounts, verifyCounts, ADAPTERS);
