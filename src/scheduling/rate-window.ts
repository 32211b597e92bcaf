/**
 * A sliding-window rate for one host: at most `cap` requests start in any `intervalMs`. Checked
 * when a request is about to go (inside its global slot), not when it enters the host queue, so
 * requests that queued behind a busy global cap cannot leave in a burst.
 */
export class RateWindow {
  readonly #cap: number;
  readonly #intervalMs: number;
  /** Start times of the latest requests (at most `cap`), oldest first. */
  readonly #starts: number[] = [];

  constructor(cap: number, intervalMs: number) {
    this.#cap = cap;
    this.#intervalMs = intervalMs;
  }

  /** The earliest time (same clock as `now`) a request may start; `now` or earlier means at once. */
  nextAllowed(now: number): number {
    if (this.#starts.length < this.#cap) return now;
    return (this.#starts[0] ?? now) + this.#intervalMs;
  }

  /** Record a request starting at `now`. */
  record(now: number): void {
    this.#starts.push(now);
    if (this.#starts.length > this.#cap) this.#starts.shift();
  }
}
