/**
 * The damage a file system (or a bucket, or memory) can do to a stored image, as functions from
 * the intact bytes to the damaged ones: the table of issue 10, shared by every integrity test.
 */
import type { OutputFormat } from '../../src/types.js';

export type DamageName =
  | 'truncated 1%'
  | 'truncated 50%'
  | 'truncated 99%'
  | 'zeroed tail'
  | 'zero-filled'
  | 'flipped byte'
  | 'zero length'
  | 'other format'
  | 'random bytes';

export const DAMAGE_NAMES: readonly DamageName[] = [
  'truncated 1%',
  'truncated 50%',
  'truncated 99%',
  'zeroed tail',
  'zero-filled',
  'flipped byte',
  'zero length',
  'other format',
  'random bytes',
];

/**
 * `body` damaged as `name` says. `other` is a whole image of another format (for `other format`).
 * `zeroed tail` zeroes the second half; `flipped byte` inverts one byte in the middle of the
 * compressed image data (not in a header), where only a checksum can see it.
 */
export function damage(name: DamageName, body: Buffer, format: OutputFormat, other: Buffer): Buffer {
  const copy = Buffer.from(body);
  switch (name) {
    case 'truncated 1%':
      return copy.subarray(0, Math.floor(copy.length * 0.01));
    case 'truncated 50%':
      return copy.subarray(0, Math.floor(copy.length * 0.5));
    case 'truncated 99%':
      return copy.subarray(0, Math.floor(copy.length * 0.99));
    case 'zeroed tail':
      return copy.fill(0, Math.floor(copy.length / 2));
    case 'zero-filled':
      return copy.fill(0);
    case 'flipped byte': {
      const [start, end] = compressedData(copy, format);
      const at = Math.floor((start + end) / 2);
      copy[at] = copy[at]! ^ 0xff;
      return copy;
    }
    case 'zero length':
      return Buffer.alloc(0);
    case 'other format':
      return Buffer.from(other);
    case 'random bytes':
      return randomBytes(copy.length, copy.length);
  }
}

/** Deterministic noise (xorshift32), so a failure reproduces. */
export function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `[start, end)` of the compressed image data of `body`: JPEG scan data, PNG IDAT, WebP VP8/VP8L, AVIF mdat. */
export function compressedData(body: Buffer, format: OutputFormat): [number, number] {
  switch (format) {
    case 'jpeg': {
      let pos = 2;
      while (body[pos] === 0xff && body[pos + 1] !== 0xda) pos += 2 + body.readUInt16BE(pos + 2);
      return [pos + 2 + body.readUInt16BE(pos + 2), body.length - 2];
    }
    case 'png': {
      for (let pos = 8; pos < body.length; pos += 12 + body.readUInt32BE(pos)) {
        if (body.toString('latin1', pos + 4, pos + 8) === 'IDAT') return [pos + 8, pos + 8 + body.readUInt32BE(pos)];
      }
      break;
    }
    case 'webp': {
      for (let pos = 12; pos < body.length; ) {
        const size = body.readUInt32LE(pos + 4);
        const type = body.toString('latin1', pos, pos + 4);
        // Past the VP8 frame header (10 bytes) or the VP8L header (5), into the coded data.
        if (type === 'VP8 ') return [pos + 8 + 10, pos + 8 + size];
        if (type === 'VP8L') return [pos + 8 + 5, pos + 8 + size];
        pos += 8 + size + (size & 1);
      }
      break;
    }
    case 'avif': {
      for (let pos = 0; pos < body.length; ) {
        const size = body.readUInt32BE(pos);
        if (body.toString('latin1', pos + 4, pos + 8) === 'mdat') return [pos + 8, pos + size];
        pos += size;
      }
      break;
    }
  }
  throw new Error(`no compressed data found in this ${format}`);
}
