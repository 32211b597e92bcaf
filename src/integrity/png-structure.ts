/**
 * PNG: the signature, then every chunk through IEND (lengths, type letters, IHDR first, at least
 * one IDAT, nothing after IEND). Each chunk's own CRC is checked too — unless the file is sealed,
 * whose checksum covers every byte at once (one pass over the data instead of two). The seal is
 * a private ancillary chunk `rtCK` just before IEND: lower-case first letter (ancillary: decoders
 * skip it), lower-case second (private), upper-case last (unsafe to copy: an editor that changes
 * the pixels drops it instead of carrying a checksum that no longer matches).
 */
import { crc32 } from 'node:zlib';
import { damaged, type SealLocation, type StructureResult } from './image-damage.js';
import { SEAL_PAYLOAD_BYTES, SEAL_VERSION } from './seal-payload.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const SEAL_TYPE = 'rtCK';
const MAX_CHUNK = 0x7fffffff;

interface Chunk {
  at: number;
  type: string;
  length: number;
}

export function pngStructure(body: Uint8Array): StructureResult {
  const length = body.length;
  if (length < SIGNATURE.length || !Buffer.from(body.buffer, body.byteOffset, SIGNATURE.length).equals(SIGNATURE)) return damaged('format', 'no PNG signature');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Chunk[] = [];
  let seal: SealLocation | undefined;
  let pos = SIGNATURE.length;
  let idat = false;
  for (;;) {
    if (pos + 8 > length) return damaged('truncated', `ends at ${length} before IEND`);
    const size = view.getUint32(pos);
    const type = String.fromCharCode(body[pos + 4]!, body[pos + 5]!, body[pos + 6]!, body[pos + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type)) return damaged('structure', `invalid chunk type at ${pos}`);
    if (size > MAX_CHUNK) return damaged('structure', `chunk ${type} at ${pos} declares ${size} bytes`);
    const end = pos + 12 + size;
    if (end > length) return damaged('truncated', `chunk ${type} at ${pos} runs past the end (${end} > ${length})`);
    if (chunks.length === 0 && (type !== 'IHDR' || size !== 13)) return damaged('structure', 'the first chunk is not IHDR');
    chunks.push({ at: pos, type, length: size });
    if (type === 'IDAT') idat = true;
    else if (type === SEAL_TYPE && size === SEAL_PAYLOAD_BYTES) {
      if (seal) return damaged('structure', `second seal at ${pos}`);
      seal = { start: pos, end, payload: pos + 8 };
    } else if (type === 'IEND') {
      if (!idat) return damaged('structure', 'no IDAT before IEND');
      pos = end;
      break;
    }
    pos = end;
  }
  // The seal's CRC covers every chunk's bytes, CRCs included; without one — or with one of a
  // version this code cannot read, which `verifyImage` then ignores — check chunk by chunk.
  if (!seal || body[seal.payload] !== SEAL_VERSION) {
    for (const chunk of chunks) {
      const stored = view.getUint32(chunk.at + 8 + chunk.length);
      if (crc32(body.subarray(chunk.at + 4, chunk.at + 8 + chunk.length)) !== stored) return damaged('checksum', `CRC of chunk ${chunk.type} at ${chunk.at} does not match`);
    }
  }
  return { ok: true, seal, end: pos };
}

/** `body` (a PNG with no seal, ending with IEND) with an empty seal chunk just before IEND (the last 12 bytes). */
export function insertPngSeal(body: Buffer, payload: Buffer): { file: Buffer; seal: SealLocation } {
  const iend = body.length - 12;
  const header = Buffer.alloc(8);
  header.writeUInt32BE(SEAL_PAYLOAD_BYTES, 0);
  header.write(SEAL_TYPE, 4, 'latin1');
  // The chunk's own CRC is written once the payload is final: see `finishPngSeal`.
  const file = Buffer.concat([body.subarray(0, iend), header, payload, Buffer.alloc(4), body.subarray(iend)]);
  return { file, seal: { start: iend, end: iend + 12 + SEAL_PAYLOAD_BYTES, payload: iend + 8 } };
}

/** Writes the seal chunk's own CRC (over its type and payload), after the seal is stamped. */
export function finishPngSeal(file: Buffer, seal: SealLocation): Buffer {
  file.writeUInt32BE(crc32(file.subarray(seal.start + 4, seal.payload + SEAL_PAYLOAD_BYTES)), seal.payload + SEAL_PAYLOAD_BYTES);
  return file;
}
