import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/scheduling/retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['0', 0],
    ['1', 1_000],
    [' 120 ', 120_000],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    // A date in the past means "now".
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ])('%s → %d ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([[undefined], [''], ['soon'], ['-3'], ['1.5']])('%s is not a delay', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
