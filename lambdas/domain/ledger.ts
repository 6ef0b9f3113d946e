// The count ledger: the row count of one table (or window) at each stage of a transfer. It balances only
// when every stage saw the same number; otherwise it names the first stage that diverged.

export const LEDGER_STAGES = ['source', 'exported', 'parsed', 'loaded', 'target'] as const;
export type LedgerStage = (typeof LEDGER_STAGES)[number];

export type LedgerCounts = Partial<Record<LedgerStage, number>>;

export interface Divergence {
  readonly stage: LedgerStage;
  readonly expected: number;
  readonly actual: number;
}

export class CountLedger {
  private readonly counts: LedgerCounts;

  constructor(counts: LedgerCounts = {}) {
    this.counts = { ...counts };
  }

  record(stage: LedgerStage, count: number): CountLedger {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`ledger count for stage '${stage}' must be a non-negative integer, got ${count}`);
    }
    return new CountLedger({ ...this.counts, [stage]: count });
  }

  get(stage: LedgerStage): number | undefined {
    return this.counts[stage];
  }

  toJSON(): LedgerCounts {
    return { ...this.counts };
  }

  /** The first recorded stage whose count differs from the source count, or null. */
  firstDivergence(): Divergence | null {
    const expected = this.counts.source;
    if (expected === undefined) return null;
    for (const stage of LEDGER_STAGES) {
      const actual = this.counts[stage];
      if (actual !== undefined && actual !== expected) return { stage, expected, actual };
    }
    return null;
  }

  /** True when every stage is recorded and all agree. */
  get balanced(): boolean {
    return LEDGER_STAGES.every((s) => this.counts[s] !== undefined) && this.firstDivergence() === null;
  }

  describe(): string {
    const parts = LEDGER_STAGES.map((s) => `${s}=${this.counts[s] ?? '?'}`).join(' ');
    const d = this.firstDivergence();
    return d ? `${parts}; diverges at ${d.stage}: expected ${d.expected}, got ${d.actual}` : parts;
  }
}
