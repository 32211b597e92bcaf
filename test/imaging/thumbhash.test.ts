import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToAverageRGBA, thumbHashToApproximateAspectRatio } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { renderVariants } from '../../src/imaging/render-variants.js';
import { thumbHashOf } from '../../src/imaging/thumbhash.js';
import type { ResolvedVariant } from '../../src/options.js';
import { deltaE76 } from '../helpers/colour-difference.js';
import { drawPhoto, photoLike } from '../helpers/photo-like.js';

const VARIANTS: ResolvedVariant[] = [
  { name: 'small', width: 64, height: 64, fit: 'cover' },
  { name: 'large', width: 240, height: undefined, fit: 'inside' },
];
const TARGET = { format: 'webp', quality: 80, maxPixels: 100_000_000 } as const;
const average = (hash: string) => {
  const { r, g, b, a } = thumbHashToAverageRGBA(Buffer.from(hash, 'base64'));
  return { rgb: { r: r * 255, g: g * 255, b: b * 255 }, a };
};

describe('thumbHashOf', () => {
  it('gives the hash of a full-quality reduction: the same mean colour and aspect ratio as the library on sharp’s 100-pixel resize', async () => {
    for (const [seed, width, height] of [[1, 800, 600], [2, 600, 800], [3, 900, 300], [4, 500, 500]] as const) {
      const data = drawPhoto(seed, width, height, 3);
      const ours = thumbHashOf({ data, width, height, channels: 3 });
      const small = await sharp(data, { raw: { width, height, channels: 3 } }).resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const reference = Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64');
      expect(deltaE76(average(ours).rgb, average(reference).rgb), `${width}x${height}`).toBeLessThan(1.5);
      expect(thumbHashToApproximateAspectRatio(Buffer.from(ours, 'base64'))).toBe(thumbHashToApproximateAspectRatio(Buffer.from(reference, 'base64')));
    }
  });

  it('weights colour by alpha and records transparency', () => {
    // Left half opaque red, right half fully transparent green: the colour is red's, with alpha.
    const width = 64;
    const height = 32;
    const data = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i += 1) {
      const left = i % width < width / 2;
      data.set(left ? [220, 20, 20, 255] : [20, 220, 20, 0], i * 4);
    }
    const hash = average(thumbHashOf({ data, width, height, channels: 4 }));
    expect(hash.a).toBeLessThan(0.7);
    expect(hash.rgb.r).toBeGreaterThan(180);
    expect(hash.rgb.g).toBeLessThan(60);
  });

  it('hashes a tiny source as it is (no enlargement), and a 1-pixel one', () => {
    for (const [width, height] of [[5, 3], [1, 1], [1, 40]] as const) {
      const data = drawPhoto(9, width, height, 3);
      expect(Buffer.from(thumbHashOf({ data, width, height, channels: 3 }), 'base64').length).toBeGreaterThanOrEqual(17);
    }
  });
});

describe('renderVariants(): the ThumbHash comes from the same decode', () => {
  it('returns the hash beside the variants, for every source format', async () => {
    for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif'] as const) {
      const body = await photoLike(7, 320, 240, format);
      const rendered = await renderVariants(body, VARIANTS, TARGET);
      expect([...rendered.keys()]).toEqual(['small', 'large']);
      expect(rendered.thumbhash, format).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(thumbHashToApproximateAspectRatio(Buffer.from(rendered.thumbhash!, 'base64'))).toBeCloseTo(7 / 5);
    }
  });

  it('describes the upright image of an EXIF-rotated source, and transparency of a transparent one', async () => {
    const rotated = await renderVariants(await photoLike(8, 600, 200, 'jpeg', { orientation: 6 }), VARIANTS, TARGET);
    expect(thumbHashToApproximateAspectRatio(Buffer.from(rotated.thumbhash!, 'base64'))).toBeLessThan(0.5);
    const transparent = await renderVariants(await photoLike(8, 300, 200, 'png', { alpha: true }), VARIANTS, TARGET);
    expect(average(transparent.thumbhash!).a).toBeLessThan(1);
  });

  it('returns no hash when no variant was asked for (nothing was decoded)', async () => {
    const rendered = await renderVariants(await photoLike(1, 64, 64, 'png'), [], TARGET);
    expect(rendered.size).toBe(0);
    expect(rendered.thumbhash).toBeUndefined();
  });
});
