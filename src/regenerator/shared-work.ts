/**
 * One in-flight promise per key. Concurrent callers share it; each caller may abort its own
 * wait without cancelling work others still wait for. The work's own signal aborts only when
 * every waiter has gone (or the owner closes).
 */
import { sharedAbortController } from '../linked-signal.js';

export type Work<V> = (signal: AbortSignal) => Promise<V>;

interface Entry<V> {
  promise: Promise<V>;
  controller: AbortController;
  waiters: number;
}

export class SharedWork<V> {
  readonly #entries = new Map<string, Entry<V>>();

  /** Number of distinct keys in flight. */
  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Join the work for `key`, starting it with `work` when none is in flight.
   * Rejects with `signal.reason` when the caller's signal aborts first.
   */
  run(key: string, work: Work<V>, signal?: AbortSignal): Promise<V> {
    signal?.throwIfAborted();
    let entry = this.#entries.get(key);
    // Work whose every waiter left is being cancelled: a newcomer starts afresh rather than
    // inheriting someone else's abort.
    if (!entry || entry.controller.signal.aborted) {
      const controller = sharedAbortController();
      const started: Entry<V> = { controller, waiters: 0, promise: Promise.resolve() as Promise<V> };
      started.promise = (async () => {
        try {
          return await work(controller.signal);
        } finally {
          if (this.#entries.get(key) === started) this.#entries.delete(key);
        }
      })();
      this.#entries.set(key, started);
      entry = started;
    }
    return this.#wait(entry, signal);
  }

  /** Abort every in-flight work (on close). */
  abortAll(reason?: unknown): void {
    for (const entry of this.#entries.values()) entry.controller.abort(reason);
  }

  /** Resolves when nothing is in flight. */
  async settled(): Promise<void> {
    while (this.#entries.size > 0) {
      await Promise.allSettled([...this.#entries.values()].map((e) => e.promise));
    }
  }

  #wait(entry: Entry<V>, signal?: AbortSignal): Promise<V> {
    entry.waiters += 1;
    if (!signal) {
      return entry.promise.finally(() => {
        entry.waiters -= 1;
      });
    }
    return new Promise<V>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        entry.waiters -= 1;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        if (done) return;
        finish();
        // The last waiter leaving cancels the work; anyone still waiting keeps it alive.
        if (entry.waiters === 0) entry.controller.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (value) => {
          if (done) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          finish();
          reject(error);
        },
      );
    });
  }
}
