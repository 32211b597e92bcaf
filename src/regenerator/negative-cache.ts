/**
 * Source URLs that failed recently, so a dead URL is not fetched on every request (Immich's and
 * Nextcloud's thumbnail jobs refetch the same broken files on every run). How long a failure is
 * remembered depends on its class: permanent ones (404, not an image …) for minutes, transient
 * ones (timeouts, 5xx …) for seconds, so a flapping origin recovers quickly.
 */
import { LRUCache } from 'lru-cache';
import { ErrorCodes } from '../errors.js';
import { classifyFailure, type FailureClass } from '../failure-class.js';
import type { ResolvedNegativeCache } from '../options.js';
import type { FailureMemory, RecentFailure } from '../scheduling/failure-memory.js';
import type { SourceFailure } from '../types.js';

export type { RecentFailure } from '../scheduling/failure-memory.js';

/** Failures that say nothing about the URL: the caller, the breaker or our store caused them. */
const NOT_ABOUT_THE_SOURCE: ReadonlySet<string> = new Set([
  ErrorCodes.ORIGIN_UNAVAILABLE,
  ErrorCodes.ABORTED,
  ErrorCodes.CLOSED,
  ErrorCodes.DEADLINE,
  ErrorCodes.STORE,
  ErrorCodes.RECENTLY_FAILED,
]);

/**
 * Whether and how long a failure of a source is remembered: undefined for failures that are
 * not the source's doing, or whose class has a TTL of 0. One policy for every `FailureMemory`
 * (this in-process cache and the shared ones), so a fleet remembers exactly what one process would.
 */
export function retentionOf(failure: SourceFailure, ttl: Pick<ResolvedNegativeCache, 'permanentTtlMs' | 'transientTtlMs'>): { failureClass: FailureClass; ttlMs: number } | undefined {
  if (NOT_ABOUT_THE_SOURCE.has(failure.code)) return undefined;
  const failureClass = classifyFailure(failure);
  const ttlMs = failureClass === 'permanent' ? ttl.permanentTtlMs : ttl.transientTtlMs;
  return ttlMs === 0 ? undefined : { failureClass, ttlMs };
}

/** The failure memory of one process: a bounded LRU with a TTL per entry. */
export class NegativeCache implements FailureMemory {
  readonly #ttl: Pick<ResolvedNegativeCache, 'permanentTtlMs' | 'transientTtlMs'>;
  readonly #entries: LRUCache<string, RecentFailure> | undefined;

  /** `now` is injectable (ms, monotonic or epoch) so TTL tests never sleep. */
  constructor(options: ResolvedNegativeCache, now?: () => number) {
    this.#ttl = { permanentTtlMs: options.permanentTtlMs, transientTtlMs: options.transientTtlMs };
    this.#entries =
      options.maxEntries === 0
        ? undefined
        : new LRUCache<string, RecentFailure>({
            max: options.maxEntries,
            // Expiry is checked on read; with an injected clock, read the clock every time.
            ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
          });
  }

  /** Remember that `url` failed (ignored for failures that are not the source's doing). */
  remember(url: string, failure: SourceFailure): void {
    if (!this.#entries) return;
    const retention = retentionOf(failure, this.#ttl);
    if (!retention) return;
    this.#entries.set(url, { failure: { ...failure }, failureClass: retention.failureClass }, { ttl: retention.ttlMs });
  }

  /** The failure remembered for `url`, if it has not expired. */
  recall(url: string): RecentFailure | undefined {
    return this.#entries?.get(url);
  }

  /** Forget `url` (it just succeeded). */
  forget(url: string): void {
    this.#entries?.delete(url);
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }
}
