// What the report says about the audit log's hash chain: the verdict of the audit log's verifier
// (`tally audit verify`'s: hashes, links, the S3 mirror and the checkpoints), over the report's period.
import { describeScope, type VerifyResult } from '../../lambdas/audit/verify';

export interface ChainStatus {
  readonly verdict: 'intact' | 'broken';
  /** How many events the verdict covers. */
  readonly checked: number;
  /** What was checked, for a person: which events, and whether their links were. */
  readonly scope: string;
  /** Who checked. */
  readonly checkedBy: string;
  /** The first event that does not hold, and why. */
  readonly broken?: { readonly eventId: string; readonly reason: string };
}

/** The report's chain status from a verification of the log (`verifyAudit`). */
export function chainStatusOfVerification(result: VerifyResult): ChainStatus {
  const start =
    result.start.from === 'genesis'
      ? "from the chain's first event"
      : `from checkpoint ${result.start.checkpoint}`;
  const scope = `${describeScope(result.scope).replace(/^checked: /, '')}; ${start}, against ${result.checkpoints} checkpoint(s)${result.signed ? ' (HMAC checked)' : ''}`;
  const checkedBy = 'tally audit verify, run by tally report';
  const b = result.break;
  return b === null
    ? { verdict: 'intact', checked: result.checked, scope, checkedBy }
    : {
        verdict: 'broken',
        checked: result.checked,
        scope,
        checkedBy,
        broken: {
          eventId: b.eventId ?? `(checkpoint ${b.checkpoint ?? '?'})`,
          reason: `${b.kind}, found by ${b.witnesses.join(', ')}: ${b.detail}`,
        },
      };
}
