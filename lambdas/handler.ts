// The Lambda entry of every step: each step's function runs this one module, and its TALLY_STEP names the
// registry entry it runs (see steps/registry.ts).
import { LAMBDA_ADAPTERS } from './runtime/adapters';
import { createHandler } from './runtime/handler';

export const handler = createHandler(LAMBDA_ADAPTERS);
