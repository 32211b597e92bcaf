/**
 * rethumb's public API. Everything not exported here is internal and may change.
 */
export { createRegenerator, type Regenerator, type GetOptions, type RegeneratorStats } from './regenerator/regenerator.js';
export type { RebuildOptions, RebuildReport, RebuildProgress, RecordResult, RecordOutcome } from './regenerator/rebuild-types.js';
export { RebuildTally, type RebuildTallyOptions } from './regenerator/rebuild-tally.js';
export type {
  RegeneratorEvents,
  OutcomeEvent,
  FetchEvent,
  StoreErrorEvent,
  RetryEvent,
  CircuitEvent,
  HostLimitEvent,
  HostPauseEvent,
} from './regenerator/events.js';
export type { HostStats } from './scheduling/download-scheduler.js';
export type { CircuitState } from './scheduling/circuit-breaker.js';
export { classifyFailure, type FailureClass } from './failure-class.js';
export { FileStore, type FileStoreOptions } from './storage/file-store.js';
export { MemoryStore } from './storage/memory-store.js';
export { keyForUrl, assertValidKey } from './storage/store-key.js';
export * from './errors.js';
export type { ThumbRecord, VariantSpec, Fit, OutputFormat, SourceFormat, Outcome, Thumbnail, SourceFailure } from './types.js';
export { FORMAT_CONTENT_TYPES, FORMAT_EXTENSIONS } from './types.js';
export type { RegeneratorOptions, PerHostOptions, RetryOptions, CircuitBreakerOptions, NegativeCacheOptions } from './options.js';
export { DEFAULTS, DEFAULT_QUALITY } from './options.js';
export type { Store, StoreEntryAddress, StoredThumbnail, StoreEntryInfo, StoreListing, StoreOperationOptions } from './storage/store.js';
