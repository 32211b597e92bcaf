import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/scheduling/circuit-breaker.js';

function breaker(failures = 3, coolDownMs = 1_000): { breaker: CircuitBreaker; clock: { now: number } } {
  const clock = { now: 10_000 };
  return { breaker: new CircuitBreaker({ failures, coolDownMs, now: () => clock.now }), clock };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures and refuses until the cool-down', () => {
    const { breaker: b, clock } = breaker(3, 1_000);
    expect(b.failure(false)).toBeUndefined();
    expect(b.failure(false)).toBeUndefined();
    expect(b.state).toBe('closed');
    expect(b.failure(false)).toBe('open');
    expect(b.state).toBe('open');
    expect(b.retryAt).toBe(11_000);
    expect(b.admit()).toEqual({ admitted: false, retryAt: 11_000 });
    clock.now = 10_999;
    expect(b.refusing).toBe(true);
    clock.now = 11_000;
    expect(b.state).toBe('half-open');
  });

  it('a success in between resets the count (a host answering 404s is healthy)', () => {
    const { breaker: b } = breaker(3);
    b.failure(false);
    b.failure(false);
    b.success(false);
    b.failure(false);
    b.failure(false);
    expect(b.state).toBe('closed');
  });

  it('half-open lets exactly one probe through; its success closes the circuit', () => {
    const { breaker: b, clock } = breaker(1, 500);
    b.failure(false);
    clock.now += 500;
    expect(b.admit()).toEqual({ admitted: true, probe: true });
    expect(b.admit().admitted).toBe(false);
    expect(b.refusing).toBe(true);
    expect(b.success(true)).toBe('closed');
    expect(b.admit()).toEqual({ admitted: true, probe: false });
  });

  it("a failed probe reopens for another cool-down; an aborted probe lets another go", () => {
    const { breaker: b, clock } = breaker(2, 500);
    b.failure(false);
    b.failure(false);
    clock.now += 500;
    expect(b.admit()).toMatchObject({ probe: true });
    expect(b.failure(true)).toBe('open');
    expect(b.retryAt).toBe(clock.now + 500);
    expect(b.admit().admitted).toBe(false);
    clock.now += 500;
    expect(b.admit()).toMatchObject({ probe: true });
    b.release(true);
    expect(b.admit()).toMatchObject({ admitted: true, probe: true });
  });
});
