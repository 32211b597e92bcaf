/**
 * A variant larger than the output format can hold (WebP and AVIF stop at 16 383/16 384 pixels a
 * side, JPEG at 65 500) is scaled down to fit, keeping its aspect ratio, and never takes the
 * other variants of its source with it.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { restrictDecoders } from '../../src/imaging/decoder-policy.js';
import { MAX_OUTPUT_SIDE } from '../../src/imaging/encode-image.js';
import { renderVariants } from '../../src/imaging/render-variants.js';
import type { ResolvedVariant } from '../../src/options.js';
import type { OutputFormat } from '../../src/types.js';
import { decode } from '../helpers/images.js';
import { useHarness } from '../regenerator/support.js';

const VARIANTS = { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } } as const;
const { origin, regenerator } = useHarness(VARIANTS);

/** A `width`×`height` vertical gradient as JPEG (PNG past JPEG's own limit): cheap to make, real to decode. */
async function tallJpeg(width: number, height: number): Promise<Buffer> {
  const strip = await sharp({ create: { width: 1, height: 8, channels: 3, background: '#000' } })
    .composite([
      { input: { create: { width: 1, height: 4, channels: 3, background: '#3a7bd5' } }, top: 0, left: 0 },
      { input: { create: { width: 1, height: 4, channels: 3, background: '#f5a623' } }, top: 4, left: 0 },
    ])
    .png()
    .toBuffer();
  const image = sharp(strip).resize(width, height, { fit: 'fill', kernel: 'linear' });
  return Math.max(width, height) > 65_500 ? image.png().toBuffer() : image.jpeg({ quality: 80 }).toBuffer();
}

let tall: Buffer;
beforeAll(async () => {
  restrictDecoders({ allowSvg: false });
  tall = await tallJpeg(600, 20_000);
});

describe('a variant the output format cannot hold', () => {
  it('600x20000 in WebP: `large` is fitted within 16383 keeping its aspect ratio, and `small` is kept', async () => {
    const server = await origin({ '/tall.jpg': { kind: 'image', body: tall, contentType: 'image/jpeg' } });
    const regen = regenerator(server, { format: 'webp' });
    const record = { key: 'scroll/1', url: server.urlFor('/tall.jpg') };

    const small = await regen.get(record, 'small');
    expect({ outcome: small.outcome, reason: small.reason }).toEqual({ outcome: 'regenerated', reason: undefined });
    expect(await decode(small.body)).toEqual({ width: 150, height: 150, format: 'webp' });
    const large = await regen.get(record, 'large');
    expect({ outcome: large.outcome, reason: large.reason, degraded: large.degraded }).toEqual({ outcome: 'memory', reason: undefined, degraded: false });
    // 600x20000 is not enlarged to 800 wide; 20000 > 16383, so 600 × 16383/20000 = 491.49.
    expect({ width: large.width, height: large.height }).toEqual({ width: 491, height: 16_383 });
    expect(await decode(large.body)).toEqual({ width: 491, height: 16_383, format: 'webp' });
    expect(server.hits('/tall.jpg')).toBe(1);
  });

  it.each([
    ['webp', 16_383],
    ['avif', 16_384],
    ['jpeg', 65_500],
  ] as [OutputFormat, number][])('%s: a source past the limit on either side is fitted to %i', async (format, limit) => {
    expect(MAX_OUTPUT_SIDE[format]).toBe(limit);
    // Narrow sources keep this cheap: 4 × (limit + 1000) pixels.
    const upright = await tallJpeg(4, limit + 1000);
    const sideways = await sharp(upright, { limitInputPixels: false }).rotate(90).png().toBuffer();
    const variants: ResolvedVariant[] = [
      // `inside` never enlarges: a box larger than the source keeps the source's size.
      { name: 'whole', width: limit + 5000, height: limit + 5000, fit: 'inside' },
      { name: 'thumb', width: 64, height: 64, fit: 'cover' },
    ];
    for (const [body, expected] of [
      [upright, { width: 4, height: limit }],
      [sideways, { width: limit, height: 4 }],
    ] as const) {
      const out = await renderVariants(body, variants, { format, quality: 50, maxPixels: 1e8 });
      expect(out.get('whole')).toMatchObject(expected);
      expect(await decode(out.get('whole')!.body)).toMatchObject(expected);
      expect(out.get('thumb')).toMatchObject({ width: 64, height: 64 });
    }
  });

  it('png has no side limit short of its 2^31−1: nothing is fitted', async () => {
    expect(MAX_OUTPUT_SIDE.png).toBe(2 ** 31 - 1);
    const body = await tallJpeg(2, 70_000);
    const out = await renderVariants(body, [{ name: 'whole', width: 2, height: undefined, fit: 'inside' }], { format: 'png', quality: 100, maxPixels: 1e8 });
    expect(await decode(out.get('whole')!.body)).toMatchObject({ width: 2, height: 70_000 });
  });
});

describe('a variant that still fails to encode', () => {
  it('fails alone: the others are rendered, and the failure is reported for that variant', async () => {
    // A limit table that claims WebP holds 20 000: the encoder's own refusal then reaches rethumb.
    const variants: ResolvedVariant[] = [
      { name: 'small', width: 150, height: 150, fit: 'cover' },
      { name: 'large', width: 800, height: undefined, fit: 'inside' },
    ];
    const failures: unknown[] = [];
    const out = await renderVariants(tall, variants, {
      format: 'webp',
      quality: 80,
      maxPixels: 1e8,
      url: 'http://127.0.0.1/tall.jpg',
      maxOutputSide: 20_000,
      onVariantError: (error) => failures.push(error),
    });
    expect([...out.keys()]).toEqual(['small']);
    expect(await decode(out.get('small')!.body)).toEqual({ width: 150, height: 150, format: 'webp' });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: ErrorCodes.ENCODE_FAILED, variant: 'large', format: 'webp', url: 'http://127.0.0.1/tall.jpg' });
    expect((failures[0] as Error).message).toMatch(/too large for the WebP format/);
  });

  it('rejects with that error when every variant fails', async () => {
    const variants: ResolvedVariant[] = [{ name: 'large', width: 800, height: undefined, fit: 'inside' }];
    await expect(renderVariants(tall, variants, { format: 'webp', quality: 80, maxPixels: 1e8, maxOutputSide: 20_000 })).rejects.toMatchObject({
      code: ErrorCodes.ENCODE_FAILED,
      variant: 'large',
    });
  });
});
