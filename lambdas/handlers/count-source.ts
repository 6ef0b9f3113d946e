// Lambda entry of the CountSource state: the countSource step behind the project's middleware.
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { STATE } from '../steps/contract';
import { countSource } from '../steps/count-source';

export const handler = createHandler(STATE.countSource, countSource, ADAPTERS);
