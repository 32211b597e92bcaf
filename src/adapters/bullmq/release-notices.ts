/**
 * Wakes a process's waiters for a host when any worker of the fleet releases a permit to it:
 * the release script publishes the host's key on one channel, and one subscriber connection per
 * fleet coordination hands the message to the waiters of that key. A waiter also wakes on its
 * own deadline, so a lost message (a reconnect) or a lease that expired (a worker killed) costs
 * at most one poll interval, never a stuck wait.
 */
import type { RedisClient } from 'bullmq';

interface Waiter {
  readonly wake: () => void;
}

export class ReleaseNotices {
  readonly channel: string;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #subscriber: RedisClient | undefined;
  #subscribing: Promise<boolean> | undefined;

  constructor(channel: string) {
    this.channel = channel;
  }

  /**
   * Subscribe on a duplicate of `client` (once). Resolves false when the client cannot
   * subscribe (a driver without pub/sub): waiters then rely on their deadlines alone.
   */
  start(client: RedisClient): Promise<boolean> {
    this.#subscribing ??= (async () => {
      const raw = client as unknown as { duplicate?: () => RedisClient };
      if (typeof raw.duplicate !== 'function') return false;
      const subscriber = raw.duplicate();
      const api = subscriber as unknown as { subscribe?: (channel: string) => Promise<unknown> };
      if (typeof api.subscribe !== 'function') {
        subscriber.disconnect();
        return false;
      }
      this.#subscriber = subscriber;
      // Errors surface on the main connection; a subscriber error must not crash the process.
      subscriber.on('error', () => {});
      subscriber.on('message', (_channel: string, key: string) => this.notify(key));
      try {
        await api.subscribe(this.channel);
        return true;
      } catch {
        return false;
      }
    })();
    return this.#subscribing;
  }

  /** Wake every waiter of `key` in this process. */
  notify(key: string): void {
    const waiters = this.#waiters.get(key);
    if (!waiters) return;
    this.#waiters.delete(key);
    for (const waiter of waiters) waiter.wake();
  }

  /** Resolves after `ms`, on a notice for `key`, or (rejecting) when `signal` aborts. */
  wait(key: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let waiters = this.#waiters.get(key);
      if (!waiters) this.#waiters.set(key, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.#waiters.get(key);
        set?.delete(waiter);
        if (set?.size === 0) this.#waiters.delete(key);
      };
      const waiter: Waiter = {
        wake: () => {
          done();
          resolve();
        },
      };
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const timer = setTimeout(waiter.wake, Math.max(1, ms));
      waiters.add(waiter);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    for (const key of [...this.#waiters.keys()]) this.notify(key);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (!subscriber) return;
    try {
      await subscriber.quit();
    } catch {
      subscriber.disconnect();
    }
  }
}
