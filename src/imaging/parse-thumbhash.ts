/**
 * Checks a `thumbhash` that came with a record (so from a user's database or a manifest: any
 * value may be junk) and decodes it once. Nothing here throws: a bad hash is a message.
 */
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';

/** A ThumbHash that passed every check, decoded by the library. */
export interface ThumbHash {
  /** Normalised base64 (standard alphabet, padded): a fresh string, never a slice of the input. */
  base64: string;
  bytes: Uint8Array;
  /** Width / height of the original, as the hash carries it (quantised to ThumbHash's 7 steps per side). */
  aspectRatio: number;
  /** The hash describes transparency. */
  hasAlpha: boolean;
  /** The library's rendering: at most 32 × 32 pixels, RGBA, not premultiplied. */
  image: { width: number; height: number; rgba: Uint8Array };
}

export type ThumbHashParse = { ok: true; hash: ThumbHash } | { ok: false; message: string };

/** Longest ThumbHash: 25 bytes (alpha, 5 × 5 luminance), 36 base64 characters with padding. */
export const MAX_THUMBHASH_BYTES = 25;
/** Shortest ThumbHash: 17 bytes (no alpha, a 7:1 image), 24 base64 characters. */
export const MIN_THUMBHASH_BYTES = 17;
/** Longest input looked at; anything longer is refused before decoding (a hash field holding a photo). */
const MAX_CHARS = 4 * Math.ceil(MAX_THUMBHASH_BYTES / 3);

const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;

/**
 * `value` as a ThumbHash, or why it is not one. Accepts standard base64 (padded or not) and
 * base64url. Checks, in order: a string, a length a ThumbHash can have, the alphabet, that the
 * header's luminance size is one ThumbHash writes and implies exactly this many bytes, and that
 * the library decodes it to a non-empty image.
 */
export function parseThumbHash(value: unknown): ThumbHashParse {
  if (typeof value !== 'string') return refuse(`expected a base64 string, got ${value === null ? 'null' : typeof value}`);
  const text = value.trim();
  if (text.length > MAX_CHARS) return refuse(`expected at most ${MAX_CHARS} base64 characters, got ${text.length}`);
  if (text.length < Math.floor((MIN_THUMBHASH_BYTES * 4) / 3)) return refuse(`expected at least ${MIN_THUMBHASH_BYTES} bytes of base64, got ${text.length} characters`);
  if (!BASE64.test(text) || (text.includes('=') && text.length % 4 !== 0) || text.length % 4 === 1) {
    return refuse('expected base64 (A–Z, a–z, 0–9, + and / or - and _, optional = padding)');
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  const expected = expectedLength(bytes);
  if (expected === undefined) return refuse('its header names a luminance size no ThumbHash has');
  if (bytes.length !== expected) return refuse(`its header implies ${expected} bytes, got ${bytes.length} (truncated or padded?)`);
  let image: { w: number; h: number; rgba: Uint8Array };
  let aspectRatio: number;
  try {
    image = thumbHashToRGBA(bytes);
    aspectRatio = thumbHashToApproximateAspectRatio(bytes);
  } catch (error) {
    return refuse(`it does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!(image.w > 0 && image.h > 0 && image.rgba.length === image.w * image.h * 4 && Number.isFinite(aspectRatio) && aspectRatio > 0)) {
    return refuse('it decodes to an empty image');
  }
  return {
    ok: true,
    hash: {
      base64: Buffer.from(bytes).toString('base64'),
      bytes,
      aspectRatio,
      hasAlpha: hasAlpha(bytes),
      image: { width: image.w, height: image.h, rgba: image.rgba },
    },
  };
}

/**
 * A record's or hints' `thumbhash` field: undefined when it is absent (undefined, null or an
 * empty string, as a CSV cell or a database column without a value gives it), else its parse.
 */
export function readThumbHashHint(value: unknown): ThumbHashParse | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return parseThumbHash(value);
}

function refuse(message: string): ThumbHashParse {
  return { ok: false, message };
}

function hasAlpha(bytes: Uint8Array): boolean {
  return ((bytes[2] as number) & 0x80) !== 0;
}

/**
 * The byte length a ThumbHash with this header has, or undefined for a header no encoder
 * writes. The header stores the shorter side's luminance cosine count (1 to 7, or 1 to 5 with
 * alpha); the longer side has the maximum. The rest is 4-bit AC coefficients, two per byte.
 */
function expectedLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 5) return undefined;
  const alpha = hasAlpha(bytes);
  const limit = alpha ? 5 : 7;
  const stored = (bytes[3] as number) & 7;
  if (stored < 1 || stored > limit) return undefined;
  const landscape = ((bytes[4] as number) & 0x80) !== 0;
  const lx = Math.max(3, landscape ? limit : stored);
  const ly = Math.max(3, landscape ? stored : limit);
  const coefficients = acCount(lx, ly) + 2 * acCount(3, 3) + (alpha ? acCount(5, 5) : 0);
  return (alpha ? 6 : 5) + Math.ceil(coefficients / 2);
}

/** AC coefficients of an nx × ny channel, counted as ThumbHash's encoder walks them (a triangle, DC excluded). */
function acCount(nx: number, ny: number): number {
  let count = 0;
  for (let cy = 0; cy < ny; cy += 1) for (let cx = 0; cx * ny < nx * (ny - cy); cx += 1) count += 1;
  return count - 1;
}
