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
export type { DamageKind } from './integrity/image-damage.js';
export type { ThumbRecord, VariantSpec, Fit, OutputFormat, SourceFormat, Outcome, Thumbnail, SourceFailure } from './types.js';
export type { PlaceholderHints } from './imaging/placeholder.js';
export { FORMAT_CONTENT_TYPES, FORMAT_EXTENSIONS } from './types.js';
export type { RegeneratorOptions, PerHostOptions, RetryOptions, CircuitBreakerOptions, NegativeCacheOptions } from './options.js';
export { DEFAULTS, DEFAULT_QUALITY } from './options.js';
export type { Store, StoreEntryAddress, StoredThumbnail, StoreEntryInfo, StoreListing, StoreOperationOptions } from './storage/store.js';
export { runBatch, type BatchOptions, type BatchReport, type BatchProgress } from './batch/run-batch.js';
export { readManifest } from './batch/read-manifest.js';
export type { ManifestEntry, ManifestProblem, ManifestFormat, ReadManifestOptions } from './batch/manifest-types.js';
export { scanManifest, type ScanOptions, type ScanReport, type ScanRecordResult, type ScanStatus } from './batch/scan.js';
export { estimateJob, type EstimateOptions, type EstimateReport } from './batch/estimate.js';
export { predictJob, type JobPrediction, type SampleObservation, type Range } from './batch/predict-job.js';
export { permanentBackoffMs } from './batch/failure-ledger.js';
export type { Coordination } from './scheduling/coordination.js';
export type {
  HostCoordinator,
  HostCoordinatorFactory,
  HostCoordinatorSettings,
  HostPolicy,
  HostObserver,
  HostPermit,
  HostFeedback,
  HostState,
  AcquireOptions,
} from './scheduling/host-coordinator.js';
export type { HostSignal } from './scheduling/host-signal.js';
export type { FailureMemory, FailureMemoryFactory, FailureMemorySettings, RecentFailure } from './scheduling/failure-memory.js';
export { processCoordination } from './regenerator/process-coordination.js';
