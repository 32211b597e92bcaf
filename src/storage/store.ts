/**
 * The `Store` interface: where thumbnails live. Implementations: `FileStore`, `MemoryStore`
 * (and `rethumb/s3`). A store holds bytes and one flag, `degraded`; it knows nothing about
 * fetching or imaging. Every implementation passes the shared contract suite in
 * `test/storage/store-contract.ts`.
 */
import type { OutputFormat } from '../types.js';

export { FORMAT_CONTENT_TYPES, FORMAT_EXTENSIONS, formatOfExtension } from '../types.js';

/** Where one thumbnail lives: `<key>/<variant>.<ext>`. */
export interface StoreEntryAddress {
  /** The record's key, validated by `assertValidKey()`. */
  key: string;
  /** The variant name. */
  variant: string;
  /** The output format, which names the file extension. */
  format: OutputFormat;
}

/** What a store holds for one thumbnail. */
export interface StoredThumbnail {
  body: Buffer;
  /** True when the entry is a stand-in derived from another variant; a rebuild replaces it. */
  degraded: boolean;
}

/** What a store knows about an entry without reading its bytes. */
export interface StoreEntryInfo {
  degraded: boolean;
  /** Size in bytes. */
  size: number;
}

/** One entry found by `list()`. */
export interface StoreListing extends StoreEntryInfo {
  key: string;
  variant: string;
  format: OutputFormat;
}

export interface StoreOperationOptions {
  signal?: AbortSignal;
}

export interface Store {
  /** The entry's bytes, or `undefined` when absent. Rejects only for a store failure. */
  get(address: StoreEntryAddress, options?: StoreOperationOptions): Promise<StoredThumbnail | undefined>;
  /** The entry's metadata without its bytes, or `undefined` when absent. */
  head(address: StoreEntryAddress, options?: StoreOperationOptions): Promise<StoreEntryInfo | undefined>;
  /**
   * Write an entry atomically: after `put` resolves the entry is whole; if the process dies
   * during `put`, the entry is either the old one or absent, never partial. Writing a
   * non-degraded entry clears a previous `degraded` flag.
   */
  put(address: StoreEntryAddress, thumbnail: StoredThumbnail, options?: StoreOperationOptions): Promise<void>;
  /** Remove an entry; resolves whether or not it existed. */
  delete(address: StoreEntryAddress, options?: StoreOperationOptions): Promise<void>;
  /** Every entry whose key starts with `prefix` (all when empty), in no particular order. */
  list(prefix?: string, options?: StoreOperationOptions): AsyncIterable<StoreListing>;
}
