/**
 * The one place that turns a sharp pipeline into an output file: format, quality, the encoder
 * settings rethumb uses, and the dimensions of what was written.
 */
import type { Sharp } from 'sharp';
import { sealImage } from '../integrity/seal-image.js';
import { FORMAT_CONTENT_TYPES, type OutputFormat } from '../types.js';

/** The output format and encoder quality every variant is written in. */
export interface RenderTarget {
  format: OutputFormat;
  /** 1–100 for webp, jpeg and avif; ignored for png (lossless). */
  quality: number;
}

/** One encoded output image. */
export interface RenderedImage {
  body: Buffer;
  width: number;
  height: number;
  format: OutputFormat;
  /** e.g. `image/webp`. */
  contentType: string;
}

/**
 * The largest width and height each output format holds in sharp 0.35 / libvips 8.18 (sharp
 * refuses larger before encoding): WebP 16 383 (the format stores 14-bit sizes), AVIF 16 384
 * (sharp's limit for HEIF output), JPEG 65 500 (libjpeg's JPEG_MAX_DIMENSION), PNG 2^31 − 1
 * (the format's own; a variant never outgrows its source, which `maxPixels` bounds).
 */
export const MAX_OUTPUT_SIDE: Readonly<Record<OutputFormat, number>> = Object.freeze({
  webp: 16_383,
  avif: 16_384,
  jpeg: 65_500,
  png: 2_147_483_647,
});

/**
 * AVIF encoder effort (0–9). sharp's default of 4 spent about 18× the CPU of effort 2 on an
 * 800×600 photo for 3 % fewer bytes; a batch of a million thumbnails cannot afford that.
 */
export const AVIF_EFFORT = 2;

/**
 * Encode `pipeline` as `target`. Metadata is not copied (sharp strips EXIF, XMP, IPTC and ICC
 * unless asked to keep them), so outputs are untagged sRGB and carry no camera data or GPS.
 * Every output is sealed (`sealImage`): a checksum inside the file that lets any later read
 * prove the stored bytes are still exactly these.
 */
export async function encodeImage(pipeline: Sharp, target: RenderTarget): Promise<RenderedImage> {
  switch (target.format) {
    case 'webp':
      pipeline.webp({ quality: target.quality });
      break;
    case 'jpeg':
      pipeline.jpeg({ quality: target.quality });
      break;
    case 'avif':
      pipeline.avif({ quality: target.quality, effort: AVIF_EFFORT });
      break;
    case 'png':
      pipeline.png();
      break;
  }
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { body: sealImage(data, target.format, info), width: info.width, height: info.height, format: target.format, contentType: FORMAT_CONTENT_TYPES[target.format] };
}
