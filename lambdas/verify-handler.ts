// The Lambda entry of the daily audit verification (`lib/audit-verification.ts`).
import { LAMBDA_ADAPTERS } from './runtime/adapters';
import { createVerifyHandler } from './runtime/verify-handler';

export const handler = createVerifyHandler(LAMBDA_ADAPTERS);
