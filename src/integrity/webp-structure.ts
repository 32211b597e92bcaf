/**
 * WebP: the RIFF header (its size must match the file exactly), then every chunk within it
 * (printable FourCC, size inside the file, even padding), with an image chunk — VP8 (key frame
 * start code), VP8L (signature) or ANMF frames — and a well-formed VP8X when present. The
 * compressed data itself has no structure to check: the seal's checksum covers it.
 *
 * The seal is a chunk `RTCK` at the end of the file. The WebP container allows unknown chunks
 * only in the extended format (after VP8X, or at the end), and readers must ignore them; so
 * sealing a simple-format file (VP8 or VP8L alone) first turns it into the extended format, with
 * a VP8X chunk carrying the canvas size and the alpha flag of the bitstream.
 */
import { damaged, type SealLocation, type StructureResult } from './image-damage.js';
import { SEAL_PAYLOAD_BYTES } from './seal-payload.js';

const SEAL_TYPE = 'RTCK';
const IMAGE_CHUNKS = new Set(['VP8 ', 'VP8L', 'ANMF']);
const VP8X_ALPHA = 0x10;

export function webpStructure(body: Uint8Array): StructureResult {
  const length = body.length;
  if (length < 12 || fourCC(body, 0) !== 'RIFF' || fourCC(body, 8) !== 'WEBP') return damaged('format', 'no RIFF WEBP header');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > length) return damaged('truncated', `RIFF declares ${riffEnd} bytes, the file has ${length}`);
  let seal: SealLocation | undefined;
  let image = false;
  let first = true;
  for (let pos = 12; pos < riffEnd; ) {
    if (pos + 8 > riffEnd) return damaged('truncated', `chunk header at ${pos} runs past the end`);
    const type = fourCC(body, pos);
    if (!/^[\x20-\x7e]{4}$/.test(type)) return damaged('structure', `invalid chunk FourCC at ${pos}`);
    const size = view.getUint32(pos + 4, true);
    const end = pos + 8 + size + (size & 1);
    if (end > riffEnd) return damaged('truncated', `chunk ${type.trim()} at ${pos} runs past the end (${end} > ${riffEnd})`);
    if (first && type !== 'VP8X' && !IMAGE_CHUNKS.has(type)) return damaged('structure', `the first chunk is ${type.trim()}, not an image or VP8X`);
    if (type === 'VP8X' && (!first || size !== 10)) return damaged('structure', `misplaced or malformed VP8X at ${pos}`);
    if (type === 'VP8 ' && !validVp8(body, pos + 8, size)) return damaged('structure', `VP8 chunk at ${pos} does not start with a key frame`);
    if (type === 'VP8L' && (size < 5 || body[pos + 8] !== 0x2f)) return damaged('structure', `VP8L chunk at ${pos} has no signature`);
    if (type === SEAL_TYPE && size === SEAL_PAYLOAD_BYTES) {
      if (seal) return damaged('structure', `second seal at ${pos}`);
      seal = { start: pos, end, payload: pos + 8 };
    }
    if (IMAGE_CHUNKS.has(type)) image = true;
    first = false;
    pos = end;
  }
  if (!image) return damaged('structure', 'no image data chunk');
  return { ok: true, seal, end: riffEnd };
}

/** A VP8 key frame: frame tag with the key-frame bit clear, then the start code 9d 01 2a. */
function validVp8(body: Uint8Array, at: number, size: number): boolean {
  return size >= 10 && (body[at]! & 1) === 0 && body[at + 3] === 0x9d && body[at + 4] === 0x01 && body[at + 5] === 0x2a;
}

function fourCC(body: Uint8Array, at: number): string {
  return String.fromCharCode(body[at]!, body[at + 1]!, body[at + 2]!, body[at + 3]!);
}

/**
 * `body` (a WebP with no seal, nothing after its RIFF data) in the extended format with an empty seal
 * chunk at the end, and the RIFF size fixed up.
 */
export function insertWebpSeal(body: Buffer, payload: Buffer): { file: Buffer; seal: SealLocation } {
  const chunks = body.subarray(12);
  const extended = fourCC(body, 12) === 'VP8X' ? chunks : Buffer.concat([vp8x(body), chunks]);
  const sealHeader = Buffer.alloc(8);
  sealHeader.write(SEAL_TYPE, 0, 'latin1');
  sealHeader.writeUInt32LE(SEAL_PAYLOAD_BYTES, 4);
  // 13 bytes of payload: one byte of padding keeps chunks at even offsets.
  const padding = Buffer.alloc(SEAL_PAYLOAD_BYTES & 1);
  const header = Buffer.from(body.subarray(0, 12));
  const start = 12 + extended.length;
  const file = Buffer.concat([header, extended, sealHeader, payload, padding]);
  file.writeUInt32LE(file.length - 8, 4);
  return { file, seal: { start, end: file.length, payload: start + 8 } };
}

/** The VP8X chunk for a simple-format file: canvas size and alpha from its one image chunk. */
function vp8x(body: Buffer): Buffer {
  const type = fourCC(body, 12);
  const data = 20;
  let width: number;
  let height: number;
  let alpha = false;
  if (type === 'VP8 ') {
    width = body.readUInt16LE(data + 6) & 0x3fff;
    height = body.readUInt16LE(data + 8) & 0x3fff;
  } else if (type === 'VP8L') {
    const bits = body.readUInt32LE(data + 1);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
    alpha = ((bits >>> 28) & 1) === 1;
  } else {
    throw new Error(`Cannot seal a WebP whose first chunk is ${type}`);
  }
  const chunk = Buffer.alloc(18);
  chunk.write('VP8X', 0, 'latin1');
  chunk.writeUInt32LE(10, 4);
  chunk[8] = alpha ? VP8X_ALPHA : 0;
  chunk.writeUIntLE(width - 1, 12, 3);
  chunk.writeUIntLE(height - 1, 15, 3);
  return chunk;
}
