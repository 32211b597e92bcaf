/**
 * Bytes of source bodies held between the start of their download and the end of their render.
 * Downloads are fast and renders slow, so without a bound the bodies pile up (80 concurrent
 * `get()`s of distinct records held 47–55 of them, 351–417 MB). The download scheduler starts no
 * download while the budget is full; a download already started always finishes, so the budget
 * can be passed by what was in flight (at most `concurrency` bodies of `maxBytes`), and a single
 * body larger than the whole budget still goes through, started when the budget was not full.
 * Renders never wait for downloads, so held bytes always drain: waiting cannot deadlock.
 */
export class ByteBudget {
  /** Bytes held before new downloads wait. */
  readonly limit: number;
  #held = 0;
  #waiters: Waiter[] = [];
  #arrivals = 0;

  constructor(limit: number) {
    if (!(limit > 0)) throw new RangeError(`Expected \`limit\` to be a number of bytes > 0, got ${limit}`);
    this.limit = limit;
  }

  /** Bytes held right now. */
  get held(): number {
    return this.#held;
  }

  /** True when no new download may start. */
  get full(): boolean {
    return this.#held >= this.limit;
  }

  /** Callers waiting in `whenRoom()`. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** An account for one source's body: what it reports is held until it is released. */
  open(): ByteHold {
    return new ByteHold((delta) => {
      this.#held += delta;
      if (delta < 0 && !this.full && this.#waiters.length > 0) this.#wake();
    });
  }

  /**
   * Resolves once the budget is not full (at once when it is not). Waiters are let go together,
   * greatest `priority()` first (read when they are let go, so a raised urgency counts), in
   * arrival order within a priority. Rejects with `signal.reason` if it aborts first.
   */
  whenRoom(priority: () => number, signal?: AbortSignal): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        priority,
        arrival: (this.#arrivals += 1),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const waiters = this.#waiters.map((w) => ({ w, priority: w.priority() }));
    this.#waiters = [];
    waiters.sort((a, b) => b.priority - a.priority || a.w.arrival - b.w.arrival);
    // Resolved in this order, their continuations run in this order: the first to reach a queue
    // takes its free slot first.
    for (const { w } of waiters) w.resolve();
  }
}

interface Waiter {
  priority: () => number;
  arrival: number;
  resolve(): void;
}

/** The bytes one source's body holds, counted in a `ByteBudget` until released. */
export class ByteHold {
  readonly #adjust: (delta: number) => void;
  #bytes = 0;

  constructor(adjust: (delta: number) => void) {
    this.#adjust = adjust;
  }

  /** Bytes this body holds now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The body now holds `bytes` (0 once it is dropped). */
  set(bytes: number): void {
    const delta = bytes - this.#bytes;
    if (delta === 0) return;
    this.#bytes = bytes;
    this.#adjust(delta);
  }

  /** The body is gone (rendered, or failed): stop counting it. */
  release(): void {
    this.set(0);
  }
}
