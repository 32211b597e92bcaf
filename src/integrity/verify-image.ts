/**
 * Is a stored image whole? A format-aware structural check that decodes nothing (`*-structure.ts`),
 * then — when the file carries rethumb's seal — its checksum, which catches what no structure
 * can: a flipped byte or a zeroed run inside compressed data. Pure and synchronous: bytes in,
 * verdict out, no I/O and no decoder, so any layer (and any `Store`) can use it.
 *
 * Cost, measured (docs/integrity.md): one pass over the bytes for the checksum (zlib's CRC-32,
 * about 4.6 GB/s here: ~11 µs for a 50 KB thumbnail) plus the structure walk, which touches only
 * headers except in JPEG, whose scan data is searched for markers with `indexOf(0xff)`.
 */
import type { OutputFormat } from '../types.js';
import type { Damage, StructureResult } from './image-damage.js';
import { isobmffStructure } from './isobmff-structure.js';
import { jpegStructure } from './jpeg-structure.js';
import { pngStructure } from './png-structure.js';
import { readSeal, sealedCrc, type ImageSize } from './seal-payload.js';
import { webpStructure } from './webp-structure.js';

/**
 * The verdict on one stored image.
 * - `ok` and `sealed`: the checksum matches, so the bytes are exactly what the encoder wrote;
 *   `size` is the size it recorded.
 * - `ok`, not sealed: written before seals existed (or by another tool): the structure holds,
 *   which is all that can be known without decoding.
 */
export type ImageVerdict = { ok: true; sealed: true; size: ImageSize } | { ok: true; sealed: false } | { ok: false; damage: Damage };

/** The structure walk of each format. */
export const STRUCTURE: Readonly<Record<OutputFormat, (body: Uint8Array) => StructureResult>> = {
  jpeg: jpegStructure,
  png: pngStructure,
  webp: webpStructure,
  avif: isobmffStructure,
};

/** Checks that `body` is a whole image of `format`. Never throws. */
export function verifyImage(body: Uint8Array, format: OutputFormat): ImageVerdict {
  if (body.length === 0) return { ok: false, damage: { kind: 'empty', detail: 'zero bytes' } };
  const structure = STRUCTURE[format](body);
  if (!structure.ok) return structure;
  if (!structure.seal) return { ok: true, sealed: false };
  const seal = readSeal(body, structure.seal);
  // A seal version from the future: the structure is all this code can vouch for.
  if (!seal) return { ok: true, sealed: false };
  const payload = body.subarray(structure.seal.payload);
  if (sealedCrc(body, structure.seal, payload, structure.end) !== seal.crc) {
    return { ok: false, damage: { kind: 'checksum', detail: 'the content does not match its embedded checksum' } };
  }
  return { ok: true, sealed: true, size: seal.size };
}
