import { describe, expect, it } from 'vitest';
import { median, volumeAnomaly } from '../../../lambdas/domain/volume';

const rule = { minRatio: 0.1 };

describe('volumeAnomaly', () => {
  it('flags an empty window, with or without history', () => {
    expect(volumeAnomaly(0, [], rule)).toBe('the window has no rows');
    expect(volumeAnomaly(0, [100, 120, 90], rule)).toContain('median of the last 3 windows is 100');
  });

  it('flags a window below the ratio of the median of recent windows', () => {
    expect(volumeAnomaly(9, [100, 100, 5000], rule)).toContain('9 rows, below 0.1');
  });

  it('passes a window at or above the ratio, and any non-empty window without history', () => {
    expect(volumeAnomaly(10, [100, 100, 5000], rule)).toBeNull();
    expect(volumeAnomaly(1, [], rule)).toBeNull();
  });

  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
