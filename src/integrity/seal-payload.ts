/**
 * The seal every stored image carries: 13 bytes inside a private chunk, segment or box of the
 * image itself (see `seal-image.ts` for why it lives there), the same in every format:
 *
 *   [0]      version, 1
 *   [1..4]   CRC-32 (zlib's, big-endian) of the whole image (up to its end marker: padding after
 *            it is not covered) without the seal's chunk/segment/box, followed by payload bytes
 *            [0] and [5..12] — everything but the CRC itself
 *   [5..8]   width in pixels, big-endian
 *   [9..12]  height in pixels, big-endian
 *
 * The dimensions let a read serve a sealed entry without asking a decoder for its header: the
 * checksum proves the bytes are exactly what the encoder wrote, and the encoder said how big
 * they are.
 */
import { crc32 } from 'node:zlib';
import type { SealLocation } from './image-damage.js';

export const SEAL_VERSION = 1;
export const SEAL_PAYLOAD_BYTES = 13;

export interface ImageSize {
  width: number;
  height: number;
}

/** The CRC of the image in `body[0, end)` as the seal at `seal` covers it (`payload` is the seal's payload bytes). */
export function sealedCrc(body: Uint8Array, seal: Pick<SealLocation, 'start' | 'end'>, payload: Uint8Array, end: number): number {
  let crc = crc32(body.subarray(0, seal.start));
  crc = crc32(body.subarray(seal.end, end), crc);
  crc = crc32(payload.subarray(0, 1), crc);
  return crc32(payload.subarray(5, SEAL_PAYLOAD_BYTES), crc);
}

/** A payload with the version and size filled in and the CRC still zero. */
export function draftPayload(size: ImageSize): Buffer {
  const payload = Buffer.alloc(SEAL_PAYLOAD_BYTES);
  payload[0] = SEAL_VERSION;
  payload.writeUInt32BE(size.width, 5);
  payload.writeUInt32BE(size.height, 9);
  return payload;
}

/** Fills in the CRC of a file whose seal payload (drafted by `draftPayload`) is already in place. */
export function stampSeal(file: Buffer, seal: SealLocation): Buffer {
  const payload = file.subarray(seal.payload, seal.payload + SEAL_PAYLOAD_BYTES);
  payload.writeUInt32BE(sealedCrc(file, seal, payload, file.length), 1);
  return file;
}

/** What a seal says, or `undefined` for a version this code does not know (treated as no seal). */
export function readSeal(body: Uint8Array, seal: SealLocation): { crc: number; size: ImageSize } | undefined {
  const payload = Buffer.from(body.buffer, body.byteOffset + seal.payload, SEAL_PAYLOAD_BYTES);
  if (payload[0] !== SEAL_VERSION) return undefined;
  return { crc: payload.readUInt32BE(1), size: { width: payload.readUInt32BE(5), height: payload.readUInt32BE(9) } };
}
