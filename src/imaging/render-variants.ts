/**
 * Render every variant of one source from a single decode: the source is decoded once, to
 * raw sRGB pixels just large enough for the largest variant, and each variant is resized and
 * encoded from those pixels.
 *
 * Why not `sharp().clone()` per variant: a clone re-runs the whole pipeline from the encoded
 * input, so three variants meant three decodes. Raw pixels in memory are decoded once and,
 * thanks to shrink-on-load, usually at a fraction of the source's size.
 */
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { AbortedError, DecodeError, EncodeError, PixelLimitError, RethumbError } from '../errors.js';
import type { ResolvedVariant } from '../options.js';
import { encodeImage, MAX_OUTPUT_SIDE, type RenderTarget, type RenderedImage } from './encode-image.js';
import { readImageHeader, type ImageHeader, type ReadImageHeaderOptions } from './image-header.js';
import { thumbHashOf } from './thumbhash.js';
import { fitWithin, intermediateSize, variantSize } from './variant-size.js';

export type { RenderTarget, RenderedImage } from './encode-image.js';
export { readImageHeader, type ImageHeader, type ReadImageHeaderOptions } from './image-header.js';

export interface RenderVariantsOptions extends RenderTarget {
  /** Largest accepted source, width × height; checked on the header before decoding. */
  maxPixels: number;
  /** The source's URL, for error messages. */
  url?: string;
  /** The header, if the caller already read it with `readImageHeader` (saves a parse). */
  header?: ImageHeader;
  /** Checked between stages; a sharp call already running finishes first. */
  signal?: AbortSignal;
  /**
   * Largest width and height of an output image, in pixels; a variant past it is scaled down to
   * fit, keeping its aspect ratio.
   * @default MAX_OUTPUT_SIDE[format] — what the format holds in this sharp build
   */
  maxOutputSide?: number;
  /**
   * Called for each variant that could not be encoded when others were: that variant is left
   * out of the result and the caller falls back for it. (When every variant fails, the first
   * failure is thrown instead.)
   */
  onVariantError?: (error: EncodeError) => void;
}

/** Every variant's image by variant name, and the source's ThumbHash from the same decode. */
export interface RenderedVariants extends Map<string, RenderedImage> {
  /** The source's ThumbHash, base64 (see `thumbHashOf`); undefined when no variant was asked for. */
  thumbhash?: string;
}

/** Decoded pixels shared by every variant. */
interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
  /** An alpha channel that is 255 everywhere (GIFs always decode with one). */
  opaque: boolean;
}

/** The 8-bit colour space of each deeper-than-8-bit one libvips decodes to. */
const EIGHT_BIT_OF: Readonly<Record<string, 'srgb' | 'b-w'>> = Object.freeze({ rgb16: 'srgb', grey16: 'b-w' });

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/**
 * ONE decode of `body`, every variant derived from those pixels. Resolves with a map from
 * variant name to its encoded image, carrying the source's ThumbHash (from the same pixels).
 *
 * Sizes (see `variantSize`): `cover`, `contain` and `fill` always produce exactly the box,
 * enlarging a small source, so a UI slot is always filled; `inside` and `outside` never
 * enlarge. `contain` letterboxes with transparency for png, webp and avif, white for jpeg;
 * transparent sources are flattened on white for jpeg. The first frame of an animation is
 * rendered; EXIF orientation is applied; output is 8-bit sRGB without metadata.
 *
 * A variant larger than the output format holds (`MAX_OUTPUT_SIDE`) is scaled down to fit,
 * keeping its aspect ratio. A variant the encoder still refuses is left out and reported to
 * `onVariantError`; the others are rendered.
 *
 * Throws `PixelLimitError` (checked on the header before any pixel is decoded, and again by
 * sharp's `limitInputPixels`), `DecodeError` for anything sharp refuses to decode (truncated or
 * corrupt data: sharp's `failOn: 'warning'` refuses to render missing rows as grey),
 * `EncodeError` when no variant could be encoded, and `AbortedError` when `signal` aborts
 * between stages.
 */
export async function renderVariants(
  body: Buffer,
  variants: readonly ResolvedVariant[],
  options: RenderVariantsOptions,
): Promise<RenderedVariants> {
  const { signal, url } = options;
  throwIfAborted(signal);
  const rendered: RenderedVariants = new Map<string, RenderedImage>();
  if (variants.length === 0) return rendered;

  const header = options.header ?? (await readImageHeader(body, options));
  if (header.width * header.height > options.maxPixels) throw new PixelLimitError(url, header.width, header.height, options.maxPixels);
  throwIfAborted(signal);

  const pixels = await decodeOnce(body, header, variants, options);
  rendered.thumbhash = thumbHashOf(pixels);
  const maxSide = options.maxOutputSide ?? MAX_OUTPUT_SIDE[options.format];
  const failed: EncodeError[] = [];
  for (const variant of variants) {
    throwIfAborted(signal);
    // A variant the format cannot hold (a tall source's `inside` variant in WebP) is scaled to fit.
    const size = fitWithin(variantSize(header, variant), maxSide);
    try {
      rendered.set(variant.name, await encodeImage(deriveVariant(pixels, size, variant, options), options));
    } catch (error) {
      // The source decoded: an encoder's refusal is this variant's failure, not the source's,
      // and must not take the other variants with it.
      failed.push(new EncodeError(url, variant.name, options.format, error));
    }
  }
  if (rendered.size === 0 && failed[0] !== undefined) throw failed[0];
  for (const error of failed) options.onVariantError?.(error);
  return rendered;
}

/** Decode `body` once: oriented, sRGB, 8-bit, first frame, at the intermediate size. */
async function decodeOnce(body: Buffer, header: ImageHeader, variants: readonly ResolvedVariant[], options: RenderVariantsOptions): Promise<Pixels> {
  const size = intermediateSize(header, variants);
  // `failOn: 'warning'` is sharp's default, spelled out because it is what refuses truncated
  // data; `pages` defaults to 1, the first frame; `autoOrient` rotates before the resize, so
  // sizes are in the oriented frame. Resizing straight after the load lets JPEG, WebP and
  // HEIF shrink on load.
  let result: { data: Buffer; info: OutputInfo };
  try {
    const pipeline = sharp(body, { failOn: 'warning', limitInputPixels: options.maxPixels, autoOrient: true });
    if (size.width !== header.width || size.height !== header.height) {
      pipeline.resize({ width: size.width, height: size.height, fit: 'fill' });
    }
    // A source deeper than 8 bits (16-bit PNG or TIFF, 10-bit AVIF) with an ICC profile: libvips
    // converts it to Display P3, not sRGB, and sharp goes on to sRGB only when asked for an output
    // profile, so P3 values went out as sRGB ones, desaturated ((255,120,0) as (239,127,48)); a
    // 16-bit grey one was not converted at all. Brought to 8 bits first (all the output keeps),
    // it takes the 8-bit path, where its profile converts it straight to sRGB. Untagged deep
    // sources are sRGB already and are left alone.
    const eightBit = header.hasProfile === true ? EIGHT_BIT_OF[header.space ?? ''] : undefined;
    if (eightBit !== undefined) pipeline.pipelineColourspace(eightBit);
    // CMYK, greyscale, 16-bit and ICC-tagged sources all become 8-bit sRGB (with alpha if any).
    result = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw await decodeFailure(body, error, options);
  }
  const { data, info } = result;
  if (info.channels !== 3 && info.channels !== 4) throw new DecodeError(options.url, new Error(`decoded to ${info.channels} channels`));
  return { data, width: info.width, height: info.height, channels: info.channels, opaque: info.channels === 3 || alphaIsOpaque(data) };
}

/** One variant's pipeline from the shared pixels, up to (not including) encoding. */
function deriveVariant(pixels: Pixels, size: { width: number; height: number }, variant: ResolvedVariant, target: RenderTarget): Sharp {
  // Our own buffer, already bounded by maxPixels: sharp's default input limit must not apply.
  const pipeline = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels }, limitInputPixels: false });
  // A useless alpha channel would make png and avif outputs larger for nothing; but a letterbox
  // needs it: sharp removes alpha last, after drawing the bars, which turned them black.
  const letterboxed = variant.fit === 'contain' && target.format !== 'jpeg';
  if (pixels.channels === 4 && pixels.opaque && !letterboxed) pipeline.removeAlpha();
  // jpeg has no alpha; libvips would flatten on black, which reads as a broken image.
  if (target.format === 'jpeg' && !pixels.opaque) pipeline.flatten({ background: WHITE });
  switch (variant.fit) {
    case 'cover':
      pipeline.resize({ width: size.width, height: size.height, fit: 'cover', position: 'centre' });
      break;
    case 'contain':
      pipeline.resize({ width: size.width, height: size.height, fit: 'contain', background: target.format === 'jpeg' ? WHITE : TRANSPARENT });
      break;
    default:
      // fill, inside, outside: `variantSize` already decided the exact size.
      if (size.width !== pixels.width || size.height !== pixels.height) pipeline.resize({ width: size.width, height: size.height, fit: 'fill' });
  }
  return pipeline;
}

/**
 * A decode failure as a rethumb error. sharp's own pixel limit only trips when a `header`
 * passed in understated the image; the real header is read again so the error names the
 * real dimensions.
 */
async function decodeFailure(body: Buffer, error: unknown, options: ReadImageHeaderOptions): Promise<RethumbError> {
  if (error instanceof Error && /pixel limit/i.test(error.message)) {
    try {
      await readImageHeader(body, options);
    } catch (headerError) {
      if (headerError instanceof RethumbError) return headerError;
    }
  }
  return new DecodeError(options.url, error);
}

function alphaIsOpaque(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}
