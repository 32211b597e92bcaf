/**
 * A circuit breaker for one host: after `failures` consecutive transient failures the host is
 * open for `coolDownMs` (requests for it fail at once, without touching the network); then one
 * probe is let through (half-open) and its result closes or reopens the circuit.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerSettings {
  /** Consecutive transient failures that open the circuit. */
  failures: number;
  /** How long the circuit stays open before one probe is allowed, in ms. */
  coolDownMs: number;
  /** Clock in epoch ms (injectable for tests). */
  now: () => number;
}

/** What `admit()` decided. `probe` is true for the one request a half-open circuit lets through. */
export type Admission = { admitted: true; probe: boolean } | { admitted: false; retryAt: number };

export class CircuitBreaker {
  readonly #options: CircuitBreakerSettings;
  #consecutive = 0;
  #openUntil = 0;
  #open = false;
  #probing = false;

  constructor(options: CircuitBreakerSettings) {
    this.#options = options;
  }

  get state(): CircuitState {
    if (!this.#open) return 'closed';
    return this.#options.now() >= this.#openUntil ? 'half-open' : 'open';
  }

  /** When the next probe may go (epoch ms); 0 when closed. */
  get retryAt(): number {
    return this.#open ? this.#openUntil : 0;
  }

  /** Whether a request would be refused right now, without taking the probe. */
  get refusing(): boolean {
    const state = this.state;
    return state === 'open' || (state === 'half-open' && this.#probing);
  }

  /** Take permission to send one request. A half-open circuit lets exactly one through. */
  admit(): Admission {
    const state = this.state;
    if (state === 'closed') return { admitted: true, probe: false };
    if (state === 'half-open' && !this.#probing) {
      this.#probing = true;
      return { admitted: true, probe: true };
    }
    // While the probe is out, others wait for its verdict as if still open.
    return { admitted: false, retryAt: Math.max(this.#openUntil, this.#options.now()) };
  }

  /** The host answered (any answer that is not a transient failure). Returns the new state if it changed. */
  success(probe: boolean): CircuitState | undefined {
    this.#consecutive = 0;
    if (probe) this.#probing = false;
    if (!this.#open) return undefined;
    this.#open = false;
    return 'closed';
  }

  /** A transient failure (timeout, connection error, 429, 5xx). Returns the new state if it changed. */
  failure(probe: boolean): CircuitState | undefined {
    this.#consecutive += 1;
    if (probe) this.#probing = false;
    const reopen = probe && this.#open;
    if (!reopen && (this.#open || this.#consecutive < this.#options.failures)) return undefined;
    this.#open = true;
    this.#openUntil = this.#options.now() + this.#options.coolDownMs;
    return 'open';
  }

  /** The probe ended without a verdict (the caller aborted): let another one go. */
  release(probe: boolean): void {
    if (probe) this.#probing = false;
  }
}
