/**
 * The memory of failed source URLs behind the negative cache, as an interface so that every
 * process of one job can share it: a dead URL is then fetched once per TTL by the whole fleet,
 * not once per process. `recall` may be asynchronous (a shared memory asks its store);
 * `remember` and `forget` never wait and never throw (a lost write costs one more fetch).
 *
 * Implementations decide what is worth remembering and for how long (by failure class), so a
 * transport only carries the calls: `NegativeCache` in one process, a Redis one for BullMQ
 * workers (`rethumb/bullmq`), an IPC one for `rethumb rebuild --processes N`.
 */
import type { FailureClass } from '../failure-class.js';
import type { ResolvedNegativeCache } from '../options.js';
import type { SourceFailure } from '../types.js';

/** A remembered failure. */
export interface RecentFailure {
  failure: SourceFailure;
  failureClass: FailureClass;
}

export interface FailureMemory {
  /** The failure remembered for `url`, if it has not expired. Never rejects: a memory that cannot reach its store answers undefined. */
  recall(url: string): RecentFailure | undefined | Promise<RecentFailure | undefined>;
  /** Remember that `url` failed (ignored for failures that are not the source's doing). */
  remember(url: string, failure: SourceFailure): void;
  /** Forget `url` (it just succeeded). */
  forget(url: string): void;
  /** URLs remembered (for a shared memory: an estimate from this process's own writes). */
  readonly size: number;
  /** Release what it holds (connections). Optional. */
  close?(): Promise<void>;
}

/** The negative-cache settings of one regenerator, with an injectable clock for tests. */
export interface FailureMemorySettings extends ResolvedNegativeCache {
  /** Clock in ms (in-process memories). @default the cache's own */
  now?: () => number;
}

/** Makes a failure memory with one regenerator's settings. */
export type FailureMemoryFactory = (settings: FailureMemorySettings) => FailureMemory;
