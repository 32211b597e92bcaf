/**
 * How many downloads one host may have at once, learnt like TCP congestion control: start small
 * and double per round of successes (slow start: 1, 2, 4 … up to the cap), then grow by one
 * per round (additive increase); halve on 429, 503 and timeouts (multiplicative decrease).
 * A host that just came back (start-up, a closed circuit) is never hit at full width at once.
 */
export class SlowStart {
  readonly cap: number;
  readonly initial: number;
  /** The congestion window; fractional during additive increase. */
  #window: number;
  /** Below it the window doubles per round; above it, grows by one per round. */
  #threshold: number;

  constructor(options: { cap: number; initial: number }) {
    this.cap = options.cap;
    this.initial = Math.min(options.initial, options.cap);
    this.#window = this.initial;
    this.#threshold = this.cap;
  }

  /** Downloads allowed at once now: from 1 to `cap`. */
  get limit(): number {
    return Math.max(1, Math.min(this.cap, Math.floor(this.#window)));
  }

  /** A download succeeded (or the host answered sanely). Returns true when `limit` changed. */
  success(): boolean {
    const before = this.limit;
    // +1 per success doubles the window per round while below the threshold.
    this.#window += this.#window < this.#threshold ? 1 : 1 / this.#window;
    this.#window = Math.min(this.#window, this.cap);
    return this.limit !== before;
  }

  /** The host said it is overloaded (429, 503, a timeout). Returns true when `limit` changed. */
  overload(): boolean {
    const before = this.limit;
    this.#threshold = Math.max(1, Math.floor(this.limit / 2));
    this.#window = this.#threshold;
    return this.limit !== before;
  }

  /** Start the ramp again (after the circuit closes). Returns true when `limit` changed. */
  restart(): boolean {
    const before = this.limit;
    this.#window = this.initial;
    this.#threshold = this.cap;
    return this.limit !== before;
  }
}
