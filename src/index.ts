/**
 * rethumb's public API. Everything not exported here is internal and may change.
 */
export * from './errors.js';
export type { ThumbRecord, VariantSpec, Fit, OutputFormat, SourceFormat, Outcome, Thumbnail, SourceFailure } from './types.js';
export type { RegeneratorOptions } from './options.js';
export { DEFAULTS } from './options.js';
export type { Store, StoreEntryAddress, StoredThumbnail, StoreEntryInfo, StoreListing, StoreOperationOptions } from './storage/store.js';
