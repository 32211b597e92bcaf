/**
 * The vocabulary of stored-image integrity: what kind of damage a check found, and what a
 * format's structure walk reports (where the embedded checksum seal sits, if any).
 */

/**
 * What is wrong with a stored image.
 * - `empty`: zero bytes.
 * - `format`: the bytes are not the expected format at all (another format's bytes, random bytes,
 *   a zero-filled file).
 * - `truncated`: the structure runs past the end of the bytes (a cut-short file, or a zeroed tail
 *   that erased the end marker).
 * - `structure`: a length, marker, chunk or box that cannot be (bad sizes, a zeroed chunk header).
 * - `checksum`: the structure holds but a checksum does not match: the embedded seal, or a PNG
 *   chunk's CRC (a flipped byte inside compressed data).
 * - `undecodable`: every check passed but the decoder refused the image (only a full decode, or
 *   the header read of an entry without a seal, can find this).
 */
export type DamageKind = 'empty' | 'format' | 'truncated' | 'structure' | 'checksum' | 'undecodable';

export interface Damage {
  kind: DamageKind;
  /** One sentence for logs, naming the offset where it helps. */
  detail: string;
}

/** Where a seal (the embedded checksum) sits in a file. */
export interface SealLocation {
  /** First byte of the chunk, segment or box that holds the seal. */
  start: number;
  /** One past its last byte (padding included). */
  end: number;
  /** First byte of the seal's payload (`SEAL_PAYLOAD_BYTES` long). */
  payload: number;
}

/**
 * What a format's structure walk found: the file holds together (with or without a seal), or
 * not. `end` is where the image ends: bytes after it (JPEG after EOI, PNG after IEND, WebP after
 * the RIFF size) are ignored by every decoder and tolerated here, because recovery tools and some
 * file systems pad files — an image recovered whole must not be thrown away for its padding.
 */
export type StructureResult = { ok: true; seal: SealLocation | undefined; end: number } | { ok: false; damage: Damage };

export function damaged(kind: DamageKind, detail: string): StructureResult {
  return { ok: false, damage: { kind, detail } };
}
