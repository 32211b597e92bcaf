/**
 * Seal an encoded image: embed a checksum of its bytes (and its size) inside the file, in a
 * private chunk, segment or box that every decoder skips — PNG `rtCK`, JPEG APP15 `rethumb`,
 * WebP `RTCK` (extended format), AVIF top-level `uuid` box. See `seal-payload.ts` for the bytes.
 *
 * Why inside the image, not beside it: the seal travels with the bytes through every `Store`
 * (FileStore, MemoryStore, S3Store, a user's own) with no metadata, so every store gets the same
 * guarantee and `verifyImage()` needs nothing but the bytes; `<root>/<key>/<variant>.<ext>` stays
 * servable as-is by a plain web server (the browsers we tested decode sealed files unchanged —
 * docs/integrity.md); a sidecar could be lost or go stale apart from its image, a seal cannot.
 * Cost: 22–37 bytes per file (40 for a simple WebP, which needs a VP8X chunk), one CRC pass and
 * one copy when encoding.
 */
import type { OutputFormat } from '../types.js';
import type { SealLocation } from './image-damage.js';
import { insertIsobmffSeal } from './isobmff-structure.js';
import { insertJpegSeal } from './jpeg-structure.js';
import { finishPngSeal, insertPngSeal } from './png-structure.js';
import { draftPayload, stampSeal, type ImageSize } from './seal-payload.js';
import { STRUCTURE } from './verify-image.js';
import { insertWebpSeal } from './webp-structure.js';

type Insert = (body: Buffer, payload: Buffer) => { file: Buffer; seal: SealLocation };

const INSERT: Readonly<Record<OutputFormat, Insert>> = {
  jpeg: insertJpegSeal,
  png: insertPngSeal,
  webp: insertWebpSeal,
  avif: insertIsobmffSeal,
};

/**
 * `body` with a seal recording its checksum and `size` (the encoder's width and height). A body
 * that already carries a seal is returned as it is. Throws when `body` is not a whole image of
 * `format` (an encoder's output always is). Bytes after the image's end are dropped.
 */
export function sealImage(body: Buffer, format: OutputFormat, size: ImageSize): Buffer {
  const structure = STRUCTURE[format](body);
  if (!structure.ok) throw new Error(`Cannot seal a damaged ${format} image: ${structure.damage.detail}`);
  if (structure.seal) return body;
  // Padding after the image's end (a recovered backup's) is not worth keeping.
  const { file, seal } = INSERT[format](body.subarray(0, structure.end), draftPayload(size));
  stampSeal(file, seal);
  return format === 'png' ? finishPngSeal(file, seal) : file;
}
