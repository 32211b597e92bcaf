/**
 * `expectValidThumbnail(thumb, variant)`: the one assertion a user's suite needs about any
 * thumbnail — it decodes (with real sharp), its bytes are what its `contentType` says, and its
 * size is what the variant's `fit` promises. Framework-agnostic: throws node's AssertionError.
 */
import { AssertionError } from 'node:assert';
import sharp from 'sharp';
import type { Thumbnail, VariantSpec } from '../types.js';

/** What the decoded thumbnail turned out to be. */
export interface DecodedThumbnail {
  width: number;
  height: number;
  /** sharp's format name, e.g. `webp`, `jpeg`. */
  format: string;
}

const FORMAT_OF_CONTENT_TYPE: Readonly<Record<string, string>> = {
  'image/webp': 'webp',
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/avif': 'heif',
};

/**
 * Asserts that `thumb` is a valid thumbnail of `variant` and resolves with what it decoded to.
 *
 * - `cover`, `contain`, `fill` with both sides: exactly the box (a UI slot is always filled).
 * - `inside` (the default) and one-sided variants: within the box, never larger.
 * - `outside`: covers the box, or keeps a smaller source's own size (never enlarged).
 */
export async function expectValidThumbnail(thumb: Thumbnail, variant: VariantSpec): Promise<DecodedThumbnail> {
  const fail = (message: string, actual?: unknown, expected?: unknown): never => {
    throw new AssertionError({ message: `expectValidThumbnail(${thumb?.key ?? '?'}, ${thumb?.variant ?? '?'}): ${message}`, actual, expected });
  };
  if (thumb === null || typeof thumb !== 'object') fail('expected a thumbnail object', thumb);
  if (!Buffer.isBuffer(thumb.body) || thumb.body.length === 0) fail('expected a non-empty Buffer body');
  let decoded: DecodedThumbnail;
  try {
    const meta = await sharp(thumb.body).metadata();
    decoded = { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? '' };
  } catch (error) {
    return fail(`the body does not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  const expectedFormat = FORMAT_OF_CONTENT_TYPE[thumb.contentType];
  if (expectedFormat === undefined) fail(`unexpected contentType ${thumb.contentType}`, thumb.contentType, Object.keys(FORMAT_OF_CONTENT_TYPE));
  if (decoded.format !== expectedFormat) fail(`the body is ${decoded.format}, but contentType says ${thumb.contentType}`, decoded.format, expectedFormat);
  if (decoded.width !== thumb.width || decoded.height !== thumb.height) {
    fail(`the body is ${decoded.width}×${decoded.height}, but the thumbnail says ${thumb.width}×${thumb.height}`, [decoded.width, decoded.height], [thumb.width, thumb.height]);
  }
  const { width, height } = variant;
  if (width === undefined && height === undefined) fail('the variant has neither width nor height');
  const fit = variant.fit ?? 'inside';
  const size = `${decoded.width}×${decoded.height}`;
  const box = `${width ?? 'auto'}×${height ?? 'auto'}`;
  const boxed = width !== undefined && height !== undefined;
  if (boxed && (fit === 'cover' || fit === 'contain' || fit === 'fill')) {
    if (decoded.width !== width || decoded.height !== height) fail(`fit '${fit}' must fill the box exactly: got ${size}, box ${box}`, size, box);
  } else if (fit === 'outside' && boxed) {
    const covers = decoded.width >= width && decoded.height >= height;
    const within = decoded.width <= width && decoded.height <= height;
    if (!covers && !within) fail(`fit 'outside' must cover the box (or keep a smaller source's size): got ${size}, box ${box}`, size, box);
  } else {
    const fits = (width === undefined || decoded.width <= width) && (height === undefined || decoded.height <= height);
    if (!fits) fail(`fit '${fit}' must stay within the box: got ${size}, box ${box}`, size, box);
  }
  return decoded;
}
