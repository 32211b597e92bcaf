/**
 * A growable set of non-negative integers as bits: the manifest indices a job has finished.
 * A million records take 125 KB, where a `Set` of their keys would take tens of megabytes.
 */
export class IndexBitmap {
  #bits = new Uint8Array(1024);
  #size = 0;

  /** Indices set. */
  get size(): number {
    return this.#size;
  }

  has(index: number): boolean {
    const byte = index >>> 3;
    return byte < this.#bits.length && (this.#bits[byte]! & (1 << (index & 7))) !== 0;
  }

  add(index: number): void {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`Expected an index ≥ 0, got ${index}`);
    const byte = index >>> 3;
    if (byte >= this.#bits.length) {
      let length = this.#bits.length;
      while (length <= byte) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (index & 7);
    if ((this.#bits[byte]! & mask) === 0) {
      this.#bits[byte]! |= mask;
      this.#size += 1;
    }
  }

  /** Bytes held (for memory accounting). */
  get byteLength(): number {
    return this.#bits.byteLength;
  }
}
