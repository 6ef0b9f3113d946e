// Reads the audit mirror's Object Lock settings from the CDK app's context (`-c auditObjectLock=MODE`,
// `-c auditObjectLockDays=N`), refusing a value S3 would not take with an error naming the setting.
import { InvalidConfigError } from '../lambdas/domain/errors';

export interface AuditLockSettings {
  readonly auditObjectLock?: 'GOVERNANCE' | 'COMPLIANCE';
  readonly auditObjectLockDays?: number;
}

/** `context` returns a setting's text, or undefined when it is not given. */
export function auditLockFromContext(context: (key: string) => string | undefined): AuditLockSettings {
  const mode = context('auditObjectLock');
  const daysText = context('auditObjectLockDays');
  if (mode !== undefined && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
    throw new InvalidConfigError(`-c auditObjectLock is '${mode}': it must be GOVERNANCE or COMPLIANCE`);
  }
  if (daysText === undefined) return mode ? { auditObjectLock: mode } : {};
  const days = Number(daysText);
  if (!Number.isInteger(days) || days < 1) {
    throw new InvalidConfigError(
      `-c auditObjectLockDays is '${daysText}': it must be a whole number of days, at least 1`,
    );
  }
  if (mode === undefined) {
    throw new InvalidConfigError('-c auditObjectLockDays needs -c auditObjectLock=GOVERNANCE or COMPLIANCE');
  }
  return { auditObjectLock: mode, auditObjectLockDays: days };
}
