import { describe, expect, it } from 'vitest';
import { SlowStart } from '../../src/scheduling/slow-start.js';

/** Successes until the limit changes, as a list of limits reached. */
function ramp(start: SlowStart, successes: number): number[] {
  const limits = [start.limit];
  for (let i = 0; i < successes; i += 1) if (start.success()) limits.push(start.limit);
  return limits;
}

describe('SlowStart', () => {
  it('starts at the initial limit and doubles per round of successes up to the cap', () => {
    const start = new SlowStart({ cap: 6, initial: 1 });
    // One success per download in flight is one round: 1 → 2 (1 success) → 4 (2 more) → 6 (cap).
    expect(ramp(start, 1)).toEqual([1, 2]);
    expect(ramp(start, 2)).toEqual([2, 3, 4]);
    expect(ramp(start, 10)).toEqual([4, 5, 6]);
    expect(start.limit).toBe(6);
  });

  it('halves on overload, then grows by about one per round (additive increase)', () => {
    const start = new SlowStart({ cap: 8, initial: 8 });
    expect(start.overload()).toBe(true);
    expect(start.limit).toBe(4);
    // Above the threshold: one more slot per `limit` successes, not per success.
    expect(ramp(start, 3)).toEqual([4]);
    expect(ramp(start, 3)).toEqual([4, 5]);
    expect(start.overload()).toBe(true);
    expect(start.limit).toBe(2);
    expect(start.overload()).toBe(true);
    expect(start.overload()).toBe(false);
    expect(start.limit).toBe(1);
  });

  it('restarts the ramp from the initial limit', () => {
    const start = new SlowStart({ cap: 4, initial: 1 });
    ramp(start, 10);
    expect(start.limit).toBe(4);
    expect(start.restart()).toBe(true);
    expect(start.limit).toBe(1);
    expect(ramp(start, 3)).toEqual([1, 2, 3, 4]);
  });

  it('an initial limit above the cap means no slow start', () => {
    expect(new SlowStart({ cap: 3, initial: 10 }).limit).toBe(3);
  });
});
