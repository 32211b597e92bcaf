/**
 * Read an image's header (dimensions, format, frames) without decoding pixels, and refuse a
 * decompression bomb before a single pixel is allocated.
 */
import sharp, { type Metadata } from 'sharp';
import { DecodeError, PixelLimitError, UnsupportedFormatError } from '../errors.js';
import { heifCodec } from './heif-codec.js';

/** What the header says about an image. */
export interface ImageHeader {
  /** Width in pixels after EXIF orientation (of the first frame, which is what gets rendered). */
  width: number;
  /** Height in pixels after EXIF orientation (of the first frame). */
  height: number;
  /** sharp's name of the decoder: `jpeg`, `png`, `webp`, `gif`, `heif`, `tiff`, `svg`. */
  format: string;
  /** Frames or pages in the file; 1 for a still image. */
  pages: number;
  /** sharp's name of the colour space as stored: `srgb`, `rgb16`, `b-w`, `grey16`, `cmyk` …; absent when unknown. */
  space?: string;
  /** An ICC profile is embedded; absent means none. */
  hasProfile?: boolean;
}

export interface ReadImageHeaderOptions {
  /** Largest accepted width × height. */
  maxPixels: number;
  /** The source's URL, for error messages. */
  url?: string;
}

/**
 * Header only (no pixel decode). `PixelLimitError` when width × height > `maxPixels`;
 * `DecodeError` when the header is unreadable (truncated, corrupt, or a format whose loader
 * the decoder policy blocks).
 */
export async function readImageHeader(body: Buffer, options: ReadImageHeaderOptions): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    // sharp would apply its own pixel limit while opening; lift it here so that a bomb is
    // reported with its real dimensions by the check below. Nothing is decoded either way.
    meta = await sharp(body, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new DecodeError(options.url, error);
  }
  // iPhone HEIC is HEVC-coded; sharp's prebuilt libvips ships no HEVC decoder (patents), only AV1
  // (AVIF). Say so precisely instead of a generic decode failure. libvips names the compression
  // after the brand, so an AV1 image under a plain `mif1` brand reads as `hevc`: the image items
  // decide. (No HEVC fixture: the same build cannot encode HEVC either.)
  if (meta.format === 'heif' && meta.compression === 'hevc' && heifCodec(body) !== 'av1') {
    throw new UnsupportedFormatError(options.url, 'heic', ' (HEVC-coded HEIF; this libvips build decodes only AV1-coded HEIF/AVIF)');
  }
  const { width, height } = meta.autoOrient;
  if (!(width > 0 && height > 0)) throw new DecodeError(options.url, new Error(`header declares ${width}x${height}`));
  if (width * height > options.maxPixels) throw new PixelLimitError(options.url, width, height, options.maxPixels);
  return { width, height, format: meta.format, pages: meta.pages ?? 1, space: meta.space, hasProfile: meta.hasProfile === true };
}
