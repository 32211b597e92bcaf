/**
 * A response body read into ONE buffer. Keeping the chunks and concatenating them at the end
 * holds every body twice at its peak (30 concurrent 24 MB bodies raised RSS by 510–927 MB); here
 * the buffer is allocated once from `Content-Length` when it is known, and otherwise grows
 * geometrically up to the byte limit, so a body costs its size plus at most one copy's slack.
 */

/** First capacity of a body of unknown length: most thumbnails' sources are larger. */
const INITIAL_UNKNOWN = 64 * 1024;
/** Spare capacity never worth a copy at the end (it is kept, as a view's slack). */
const TRIM_SLACK = 64 * 1024;

export interface BodyBufferOptions {
  /** The announced length (`Content-Length` of an uncompressed body), if any. */
  expected: number | undefined;
  /** Capacity never grows past this (the caller refuses longer bodies). */
  maxBytes: number;
  /** Told the memory held (the buffer's capacity) whenever it changes. */
  onCapacity?: ((bytes: number) => void) | undefined;
}

export class BodyBuffer {
  readonly #maxBytes: number;
  readonly #onCapacity: ((bytes: number) => void) | undefined;
  #buffer: Buffer;
  #length = 0;

  constructor(options: BodyBufferOptions) {
    this.#maxBytes = options.maxBytes;
    this.#onCapacity = options.onCapacity;
    const expected = options.expected;
    // allocUnsafe: every byte handed out is written first (`bytes` and `head` never reach past `length`).
    this.#buffer = Buffer.allocUnsafe(expected !== undefined ? Math.min(expected, this.#maxBytes) : Math.min(INITIAL_UNKNOWN, this.#maxBytes));
    this.#onCapacity?.(this.#buffer.length);
  }

  /** Bytes appended so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Append `chunk`, growing the buffer (doubling, at most to `maxBytes`) when it does not fit:
   * a body longer than announced is still read whole. The caller checks `maxBytes` first.
   */
  append(chunk: Uint8Array): void {
    const needed = this.#length + chunk.length;
    if (needed > this.#buffer.length) this.#grow(needed);
    this.#buffer.set(chunk, this.#length);
    this.#length = needed;
  }

  /** The first `bytes` bytes (fewer when shorter), as a view: valid until the next `append()`. */
  head(bytes: number): Buffer {
    return this.#buffer.subarray(0, Math.min(bytes, this.#length));
  }

  /**
   * The body, exactly `length` bytes. A body shorter than its capacity (shorter than announced,
   * or of unknown length) is copied into a buffer of its size when more than a quarter of the
   * capacity is spare: a copy is one more body in memory until the old buffer is collected, so
   * it is made only when it saves much for the body's remaining life (the wait for sharp).
   */
  bytes(): Buffer {
    const spare = this.#buffer.length - this.#length;
    if (spare > TRIM_SLACK && spare * 4 > this.#buffer.length) {
      const exact = Buffer.allocUnsafe(this.#length);
      this.#buffer.copy(exact, 0, 0, this.#length);
      this.#buffer = exact;
      this.#onCapacity?.(exact.length);
    }
    return this.#length === this.#buffer.length ? this.#buffer : this.#buffer.subarray(0, this.#length);
  }

  #grow(needed: number): void {
    const capacity = Math.max(needed, Math.min(this.#maxBytes, Math.max(INITIAL_UNKNOWN, this.#buffer.length * 2)));
    const grown = Buffer.allocUnsafe(capacity);
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
    this.#onCapacity?.(capacity);
  }
}
