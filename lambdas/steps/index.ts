// Which step runs in which state of the definition: the local runner binds tasks by these names.

import { STATE } from './contract';
import { countSource } from './count-source';
import type { StepDeps } from './deps';
import { exportToS3 } from './export-to-s3';
import { loadSnowflake } from './load-snowflake';
import { plan } from './plan';
import { verifyCounts } from './verify-counts';
import { writeAudit } from './write-audit';

export type Step = (event: unknown, deps: StepDeps) => Promise<unknown>;

export const STEP_BY_STATE: Readonly<Record<string, Step>> = {
  [STATE.plan]: plan,
  [STATE.countSource]: countSource,
  [STATE.exportToS3]: exportToS3,
  [STATE.loadSnowflake]: loadSnowflake,
  [STATE.verifyCounts]: verifyCounts,
  [STATE.auditSuccess]: writeAudit,
  [STATE.auditFailure]: writeAudit,
  [STATE.auditAlert]: writeAudit,
};
