/**
 * The in-process LRU of rendered thumbnails, bounded by bytes (never by count alone: one
 * 800-pixel AVIF and one 64-pixel WebP differ a hundredfold). Placeholders never enter it, so a
 * record whose origin recovers is fetched again instead of serving a stand-in from memory.
 */
import { LRUCache } from 'lru-cache';
import type { Thumbnail } from '../types.js';
import { failuresBytes } from './retained-bytes.js';

/** Per-entry overhead counted on top of the body: the object, key and LRU bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;

export class MemoryCache {
  readonly #lru: LRUCache<string, Thumbnail> | undefined;

  /** `maxBytes` 0 disables the cache. */
  constructor(maxBytes: number) {
    this.#lru =
      maxBytes > 0
        ? new LRUCache<string, Thumbnail>({
            maxSize: maxBytes,
            // A thumbnail from a mirror or derived one keeps the failures that led to it: their
            // URLs (up to 8 KB each) count as much as the image.
            sizeCalculation: (thumb, key) => thumb.body.length + 2 * key.length + failuresBytes(thumb.failures) + ENTRY_OVERHEAD_BYTES,
          })
        : undefined;
  }

  get(key: string, variant: string): Thumbnail | undefined {
    return this.#lru?.get(cacheKey(key, variant));
  }

  set(thumb: Thumbnail): void {
    if (thumb.outcome === 'placeholder') return;
    this.#lru?.set(cacheKey(thumb.key, thumb.variant), thumb);
  }

  delete(key: string, variant: string): void {
    this.#lru?.delete(cacheKey(key, variant));
  }

  /** Entries and bytes held. */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.#lru?.size ?? 0, bytes: this.#lru?.calculatedSize ?? 0 };
  }

  clear(): void {
    this.#lru?.clear();
  }
}

function cacheKey(key: string, variant: string): string {
  // NUL cannot occur in a valid key, so the pair is unambiguous.
  return `${key}\u0000${variant}`;
}
