/**
 * What the regenerator's parts share: resolved options, the guarded agent, the scheduler, the
 * caches and the counters. Built once by `createRegenerator()`.
 */
import type { Agent } from 'undici';
import type { PlaceholderRenderer } from '../imaging/placeholder.js';
import type { ResolvedOptions, ResolvedVariant } from '../options.js';
import type { FailureMemory } from '../scheduling/failure-memory.js';
import type { Scheduler } from '../scheduling/scheduler.js';
import type { Emit } from './events.js';
import type { Outcome } from '../types.js';
import type { MemoryCache } from './memory-cache.js';

/** Running totals since the regenerator was created. */
export interface Counters {
  /** Source downloads that completed with a body. */
  fetches: number;
  /** Source decodes by sharp (one per source, whatever the number of variants). */
  decodes: number;
  bytesDownloaded: number;
  bytesWritten: number;
  /** Store reads or writes that failed (the caller was answered anyway). */
  storeErrors: number;
  /** Source attempts retried after a transient failure. */
  retries: number;
  /** Sources not fetched because they failed recently (negative cache hits). */
  recentlyFailed: number;
  /** Sources refused at once because their host's circuit was open. */
  circuitRejections: number;
  /** Thumbnails served from a backup store (and written back to the primary). */
  backupHits: number;
  /**
   * Stored entries found damaged when read (primary or backup store, or a variant to derive
   * from): each was also a `storeError` (`RETHUMB_STORE_CORRUPT`) and was treated as missing.
   */
  corruptEntries: number;
  /** Answers per outcome: every `get()` and every record of `rebuild()`/`rebuildRecord()`. */
  outcomes: Record<Outcome, number>;
}

export interface RegeneratorContext {
  readonly options: ResolvedOptions;
  /** Variants in configuration order. */
  readonly variants: readonly ResolvedVariant[];
  readonly agent: Agent;
  readonly scheduler: Scheduler;
  readonly placeholders: PlaceholderRenderer;
  readonly cache: MemoryCache;
  /** Failed source URLs (the negative cache): this process's, or shared by its `coordination`. */
  readonly negativeCache: FailureMemory;
  readonly counters: Counters;
  /** Emit an observer event (never throws). */
  readonly emit: Emit;
}
