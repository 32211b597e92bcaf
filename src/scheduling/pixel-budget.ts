/**
 * Admission by decoded pixels: the render stage holds at most `limit` source pixels (width ×
 * height from the header) at once, so a few huge sources cannot exhaust memory however many
 * render slots are free. A source larger than the whole budget is admitted when nothing else
 * holds pixels: it runs alone rather than never.
 */
export class PixelBudget {
  /** The most pixels held at once (unless one source alone is larger). */
  readonly limit: number;
  #held = 0;
  #holders = 0;

  constructor(limit: number) {
    if (!(limit > 0)) throw new RangeError(`Expected \`limit\` to be a number of pixels > 0, got ${limit}`);
    this.limit = limit;
  }

  /** Pixels held right now. */
  get held(): number {
    return this.#held;
  }

  /** True when `pixels` can be taken now: it fits beside what is held, or nothing is held. */
  fits(pixels: number): boolean {
    return this.#holders === 0 || this.#held + pixels <= this.limit;
  }

  /** Take `pixels` (call only when `fits(pixels)`). */
  take(pixels: number): void {
    this.#held += pixels;
    this.#holders += 1;
  }

  /** Give back what `take(pixels)` took. */
  give(pixels: number): void {
    this.#held -= pixels;
    this.#holders -= 1;
  }
}
