import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountLedger, LEDGER_STAGES } from '../../../lambdas/domain/ledger';

describe('CountLedger', () => {
  it('balances when every stage saw the source count', () => {
    let ledger = new CountLedger();
    for (const stage of LEDGER_STAGES) ledger = ledger.record(stage, 42);
    expect(ledger.balanced).toBe(true);
    expect(ledger.firstDivergence()).toBeNull();
  });

  it('names the first stage whose count differs', () => {
    const ledger = new CountLedger({ source: 10, exported: 10, parsed: 10, loaded: 9, target: 8 });
    expect(ledger.firstDivergence()).toEqual({ stage: 'loaded', expected: 10, actual: 9 });
    expect(ledger.balanced).toBe(false);
    expect(ledger.describe()).toContain('diverges at loaded: expected 10, got 9');
  });

  it('is not balanced while a stage is missing', () => {
    const ledger = new CountLedger({ source: 3, exported: 3 });
    expect(ledger.firstDivergence()).toBeNull();
    expect(ledger.balanced).toBe(false);
  });

  it('refuses a negative or fractional count', () => {
    expect(() => new CountLedger().record('source', -1)).toThrow(/non-negative integer/);
    expect(() => new CountLedger().record('source', 1.5)).toThrow(/non-negative integer/);
  });

  it('reports a divergence exactly when some stage differs from the source', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5), { minLength: 5, maxLength: 5 }), (counts) => {
        let ledger = new CountLedger();
        LEDGER_STAGES.forEach((s, i) => {
          ledger = ledger.record(s, counts[i]!);
        });
        const differs = counts.some((c) => c !== counts[0]);
        expect(ledger.firstDivergence() !== null).toBe(differs);
        expect(ledger.balanced).toBe(!differs);
      }),
    );
  });
});
