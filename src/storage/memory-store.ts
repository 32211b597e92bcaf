/**
 * A `Store` in process memory, bounded in bytes: for tests and for short-lived tools that
 * need no persistence.
 */
import { AbortedError, ConfigError, StoreError } from '../errors.js';
import type { OutputFormat } from '../types.js';
import { assertValidAddress, assertValidPrefix } from './store-key.js';
import type { Store, StoredThumbnail, StoreEntryAddress, StoreEntryInfo, StoreListing, StoreOperationOptions } from './store.js';

export interface MemoryStoreOptions {
  /**
   * Most bytes of thumbnails held; `put` rejects with `StoreError` past it rather than
   * growing without bound.
   * @default 268_435_456 (256 MiB) — room for a test suite's thumbnails, not for a production cache.
   */
  maxBytes?: number;
}

interface MemoryEntry {
  key: string;
  variant: string;
  format: OutputFormat;
  body: Buffer;
  degraded: boolean;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** A store in a `Map`. Buffers are copied on `put` and `get`, so no caller can corrupt it. */
export class MemoryStore implements Store {
  readonly #maxBytes: number;
  /** By `<key>\n<variant>.<ext>`: a key cannot contain `\n`, so ids never collide. */
  readonly #entries = new Map<string, MemoryEntry>();
  #bytes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new ConfigError('maxBytes', `an integer from 1 to ${Number.MAX_SAFE_INTEGER}`, maxBytes);
    }
    this.#maxBytes = maxBytes;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of thumbnails held. */
  get bytes(): number {
    return this.#bytes;
  }

  async get(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoredThumbnail | undefined> {
    const id = idOf(address);
    throwIfAborted(options.signal);
    const entry = this.#entries.get(id);
    return entry && { body: Buffer.from(entry.body), degraded: entry.degraded };
  }

  async head(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoreEntryInfo | undefined> {
    const id = idOf(address);
    throwIfAborted(options.signal);
    const entry = this.#entries.get(id);
    return entry && { degraded: entry.degraded, size: entry.body.length };
  }

  async put(address: StoreEntryAddress, thumbnail: StoredThumbnail, options: StoreOperationOptions = {}): Promise<void> {
    const { key, variant, format, fileName } = assertValidAddress(address);
    const id = `${key}\n${fileName}`;
    const source = (thumbnail as Partial<StoredThumbnail> | null | undefined)?.body as unknown;
    if (!(source instanceof Uint8Array)) throw new StoreError('Expected `thumbnail.body` to be a Buffer');
    throwIfAborted(options.signal);
    const previous = this.#entries.get(id)?.body.length ?? 0;
    const bytes = this.#bytes - previous + source.length;
    if (bytes > this.#maxBytes) {
      throw new StoreError(`MemoryStore is full: ${key}/${variant} needs ${source.length} bytes; it holds ${this.#bytes} of at most ${this.#maxBytes} (maxBytes)`);
    }
    const body = Buffer.from(source);
    this.#entries.set(id, { key, variant, format, body, degraded: thumbnail.degraded === true });
    this.#bytes = bytes;
  }

  async delete(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<void> {
    const id = idOf(address);
    throwIfAborted(options.signal);
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#bytes -= entry.body.length;
  }

  async *list(prefix = '', options: StoreOperationOptions = {}): AsyncIterable<StoreListing> {
    const checked = assertValidPrefix(prefix);
    for (const entry of this.#entries.values()) {
      throwIfAborted(options.signal);
      if (!entry.key.startsWith(checked)) continue;
      const { key, variant, format, degraded } = entry;
      yield { key, variant, format, degraded, size: entry.body.length };
    }
    throwIfAborted(options.signal);
  }
}

function idOf(address: StoreEntryAddress): string {
  const { key, fileName } = assertValidAddress(address);
  return `${key}\n${fileName}`;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}
