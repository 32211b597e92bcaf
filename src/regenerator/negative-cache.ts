/**
 * Source URLs that failed recently, so a dead URL is not fetched on every request (Immich's and
 * Nextcloud's thumbnail jobs refetch the same broken files on every run). How long a failure is
 * remembered depends on its class: permanent ones (404, not an image …) for minutes, transient
 * ones (timeouts, 5xx …) for seconds, so a flapping origin recovers quickly.
 *
 * Bounded in bytes as well as entries: an entry is keyed by a hash of its URL and keeps a
 * bounded, detached copy of the failure, never the URL itself (300 failing 100 KB URLs used to
 * hold ~59 MB through their keys and the slices of them in error messages).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { boundedString } from '../detach-string.js';
import { ErrorCodes, type ErrorCode, type TimeoutPhase } from '../errors.js';
import { classifyFailure, type FailureClass } from '../failure-class.js';
import type { ResolvedNegativeCache } from '../options.js';
import type { FailureMemory, RecentFailure } from '../scheduling/failure-memory.js';
import type { SourceFailure } from '../types.js';
import { MAX_FAILURE_MESSAGE } from './source-failure.js';

export type { RecentFailure } from '../scheduling/failure-memory.js';

/** What an entry keeps: the failure without its URL (the caller has that). */
interface Remembered {
  readonly code: ErrorCode;
  readonly message: string;
  readonly status: number | undefined;
  readonly phase: TimeoutPhase | undefined;
  readonly timeoutMs: number | undefined;
  readonly failureClass: FailureClass;
}

/**
 * Bytes counted per entry besides its strings: the entry object and lru-cache's slots for it
 * (measured at ~250 bytes on Node 20; rounded up).
 */
const ENTRY_OVERHEAD_BYTES = 320;

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
  // Refused by our own configuration (address policy, allowSvg): not the source's failure, in
  // any process (workers of a fleet may be configured differently).
  if (failureClass === 'local') return undefined;
  const ttlMs = failureClass === 'permanent' ? ttl.permanentTtlMs : ttl.transientTtlMs;
  return ttlMs === 0 ? undefined : { failureClass, ttlMs };
}

/** The failure memory of one process: a bounded LRU with a TTL per entry. */
export class NegativeCache implements FailureMemory {
  readonly #ttl: Pick<ResolvedNegativeCache, 'permanentTtlMs' | 'transientTtlMs'>;
  readonly #entries: LRUCache<string, Remembered> | undefined;

  /** `now` is injectable (ms, monotonic or epoch) so TTL tests never sleep. */
  constructor(options: ResolvedNegativeCache, now?: () => number) {
    this.#ttl = { permanentTtlMs: options.permanentTtlMs, transientTtlMs: options.transientTtlMs };
    this.#entries =
      options.maxEntries === 0 || options.maxBytes === 0
        ? undefined
        : new LRUCache<string, Remembered>({
            max: options.maxEntries,
            maxSize: options.maxBytes,
            // Strings counted at two bytes a character: what V8 needs at worst.
            sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + 2 * (key.length + entry.message.length),
            // Expiry is checked on read; with an injected clock, read the clock every time.
            ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
          });
  }

  /** Remember that `url` failed (ignored for failures that are not the source's doing). */
  remember(url: string, failure: SourceFailure): void {
    if (!this.#entries) return;
    const retention = retentionOf(failure, this.#ttl);
    if (!retention) return;
    const entry: Remembered = {
      code: failure.code,
      message: boundedString(failure.message, MAX_FAILURE_MESSAGE),
      status: failure.status,
      phase: failure.phase,
      timeoutMs: failure.timeoutMs,
      failureClass: retention.failureClass,
    };
    this.#entries.set(keyOf(url), entry, { ttl: retention.ttlMs });
  }

  /** The failure remembered for `url`, if it has not expired. */
  recall(url: string): RecentFailure | undefined {
    const entry = this.#entries?.get(keyOf(url));
    if (entry === undefined) return undefined;
    const failure: SourceFailure = { source: url, code: entry.code, message: entry.message };
    if (entry.status !== undefined) failure.status = entry.status;
    if (entry.phase !== undefined) failure.phase = entry.phase;
    if (entry.timeoutMs !== undefined) failure.timeoutMs = entry.timeoutMs;
    return { failure, failureClass: entry.failureClass };
  }

  /** Forget `url` (it just succeeded). */
  forget(url: string): void {
    this.#entries?.delete(keyOf(url));
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Bytes held by the entries, as estimated for `maxBytes`. */
  get bytes(): number {
    return this.#entries?.calculatedSize ?? 0;
  }
}

/** A fixed-size key for any URL: 43 characters, whatever the URL's length. */
function keyOf(url: string): string {
  return createHash('sha256').update(url).digest('base64url');
}
