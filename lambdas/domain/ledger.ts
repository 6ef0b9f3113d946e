// The count ledger: the row count of one table (or window) at each stage of a transfer. It balances only
// when every stage saw the same number; otherwise it names the first stage that diverged.

export const STAGES = ['source', 'exported', 'parsed', 'loaded', 'target'] as const;
export type Stage = (typeof STAGES)[number];

export type LedgerCounts = Partial<Record<Stage, number>>;

export interface Divergence {
  readonly stage: Stage;
  readonly expected: number;
  readonly actual: number;
}

export class CountLedger {
  private readonly counts: LedgerCounts;

  constructor(counts: LedgerCounts = {}) {
    this.counts = { ...counts };
  }

  record(stage: Stage, count: number): CountLedger {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`ledger count for stage '${stage}' must be a non-negative integer, got ${count}`);
    }
    return new CountLedger({ ...this.counts, [stage]: count });
  }

  get(stage: Stage): number | undefined {
    return this.counts[stage];
  }

  toJSON(): LedgerCounts {
    return { ...this.counts };
  }

  /** The first recorded stage whose count differs from the source count, or null. */
  firstDivergence(): Divergence | null {
    const expected = this.counts.source;
    if (expected === undefined) return null;
    for (const stage of STAGES) {
      const actual = this.counts[stage];
      if (actual !== undefined && actual !== expected) return { stage, expected, actual };
    }
    return null;
  }

  /** True when every stage is recorded and all agree. */
  get balanced(): boolean {
    return STAGES.every((s) => this.counts[s] !== undefined) && this.firstDivergence() === null;
  }

  describe(): string {
    const parts = STAGES.map((s) => `${s}=${this.counts[s] ?? '?'}`).join(' ');
    const d = this.firstDivergence();
    return d ? `${parts}; diverges at ${d.stage}: expected ${d.expected}, got ${d.actual}` : parts;
  }
}
