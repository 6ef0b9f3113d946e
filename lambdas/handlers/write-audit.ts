// Lambda entry of the AuditSuccess, AuditFailure and AuditAlert states: the writeAudit step behind the
// project's middleware (the event's `mode` says which event to write).
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { writeAudit } from '../steps/write-audit';

export const handler = createHandler('WriteAudit', writeAudit, ADAPTERS);
