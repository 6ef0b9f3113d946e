// The volume guard: an incremental window with no rows, or far fewer than its table's recent windows,
// is worth a warning even when every count closes (a stalled writer, a broken cursor, a lost feed).

export interface VolumeRule {
  /** A window below this fraction of the median of recent windows is an anomaly. */
  readonly minRatio: number;
}

/** Why a window's volume looks wrong, or null when it does not. */
export function volumeAnomaly(rows: number, recent: readonly number[], rule: VolumeRule): string | null {
  const typical = median(recent);
  if (rows === 0) {
    return typical === null || typical === 0
      ? 'the window has no rows'
      : `the window has no rows, while the median of the last ${recent.length} windows is ${typical}`;
  }
  if (typical !== null && rows < typical * rule.minRatio) {
    return `the window has ${rows} rows, below ${rule.minRatio} of the median of the last ${recent.length} windows (${typical})`;
  }
  return null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}
