/**
 * The ThumbHash of a source, from the pixels its one decode already produced (no second
 * decode): a ~25-byte description of the image that decodes to a blurred likeness of it, for
 * an application to keep beside its records and for rethumb to draw placeholders from.
 */
import { rgbaToThumbHash } from 'thumbhash';

/** Decoded 8-bit sRGB pixels, oriented, as `renderVariants` holds them. */
export interface HashablePixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/**
 * Longest side of the image that is hashed. ThumbHash keeps at most 7 cosines per side of
 * luminance and 3 of colour, so 32 pixels (the size its own decoder draws) hold everything it
 * can encode; the library accepts up to 100, at three times the CPU for the same hash.
 */
export const HASH_SIDE = 32;

/**
 * Samples averaged per side of each hashed pixel (16 per pixel). Averaging every source pixel
 * (a box filter, or a sharp resize of the raw pixels) cost 1.5–2.1 ms of CPU on an 800×600
 * intermediate, 2–3 % of a record; 16 evenly spaced samples per hashed pixel cost 0.1–0.3 ms
 * and give the same hash to within ThumbHash's own quantisation (docs/performance.md).
 */
const SAMPLES = 4;

/** The ThumbHash of `pixels`, base64 (standard alphabet, padded), as ThumbHash's own tools write it. */
export function thumbHashOf(pixels: HashablePixels): string {
  const { width, height } = pixels;
  const scale = Math.min(1, HASH_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return Buffer.from(rgbaToThumbHash(w, h, sample(pixels, w, h))).toString('base64');
}

/**
 * `pixels` reduced to `w` × `h` RGBA: each output pixel is the mean of a SAMPLES × SAMPLES grid
 * of source pixels spread evenly over the area it covers. Colour is averaged weighted by alpha
 * (a transparent pixel's colour is meaningless) and written unpremultiplied, as ThumbHash wants.
 */
function sample(pixels: HashablePixels, w: number, h: number): Uint8Array {
  const { data, width, height, channels } = pixels;
  const xs = positions(width, w);
  const ys = positions(height, h);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = y * SAMPLES; sy < (y + 1) * SAMPLES; sy += 1) {
        const row = (ys[sy] as number) * width;
        for (let sx = x * SAMPLES; sx < (x + 1) * SAMPLES; sx += 1) {
          const i = (row + (xs[sx] as number)) * channels;
          const alpha = channels === 4 ? (data[i + 3] as number) : 255;
          r += (data[i] as number) * alpha;
          g += (data[i + 1] as number) * alpha;
          b += (data[i + 2] as number) * alpha;
          a += alpha;
        }
      }
      const o = (y * w + x) * 4;
      if (a > 0) {
        out[o] = Math.round(r / a);
        out[o + 1] = Math.round(g / a);
        out[o + 2] = Math.round(b / a);
      }
      out[o + 3] = Math.round(a / (SAMPLES * SAMPLES));
    }
  }
  return out;
}

/** Source coordinates of the samples along one axis: SAMPLES per output pixel, centred in their share of it. */
function positions(sourceSide: number, outputSide: number): Uint32Array {
  const at = new Uint32Array(outputSide * SAMPLES);
  const step = sourceSide / (outputSide * SAMPLES);
  for (let i = 0; i < at.length; i += 1) at[i] = Math.min(sourceSide - 1, Math.floor((i + 0.5) * step));
  return at;
}
