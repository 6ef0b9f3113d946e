// A helper of the stand-in's server rather than a Snowflake feature: a map that keeps only its newest
// entries, for the finished results, retried requests and closed sessions it remembers.

/** Entries leave oldest-inserted first once there are more than `limit`; reading one does not renew it. */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  values(): V[] {
    return [...this.entries.values()];
  }

  set(key: K, value: V): void {
    this.entries.set(key, value);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.limit) break;
      this.entries.delete(oldest);
    }
  }
}
