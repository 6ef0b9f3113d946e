// Lambda entry of the ExportToS3 state: the exportToS3 step behind the project's middleware.
import { ADAPTERS } from '../runtime/adapters';
import { createHandler } from '../runtime/handler';
import { STATE } from '../steps/contract';
import { exportToS3 } from '../steps/export-to-s3';

export const handler = createHandler(STATE.exportToS3, exportToS3, ADAPTERS);
