import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { restrictDecoders } from '../../src/imaging/decoder-policy.js';
import { readImageHeader, renderVariants, type RenderedImage } from '../../src/imaging/render-variants.js';
import type { ResolvedVariant } from '../../src/options.js';
import type { Fit, OutputFormat } from '../../src/types.js';
import { decode, makeImage, truncate } from '../helpers/images.js';
import { animatedGif, halvesJpeg, near, pixelAt } from './fixtures.js';

const RED = { r: 204, g: 51, b: 51 };
const v = (name: string, width: number | undefined, height: number | undefined, fit: Fit = 'inside'): ResolvedVariant => ({ name, width, height, fit });
const webp = { format: 'webp' as const, quality: 80, maxPixels: 100_000_000 };

async function renderOne(body: Buffer, variant: ResolvedVariant, target: { format: OutputFormat; quality?: number } = { format: 'webp' }): Promise<RenderedImage> {
  const out = await renderVariants(body, [variant], { format: target.format, quality: target.quality ?? 80, maxPixels: 100_000_000 });
  const image = out.get(variant.name);
  if (!image) throw new Error(`variant ${variant.name} missing`);
  return image;
}

// Every render below runs under the decoder policy, as in production.
beforeAll(() => restrictDecoders({ allowSvg: false }));

describe('renderVariants: sizes', () => {
  let wide: Buffer;
  let tiny: Buffer;
  beforeAll(async () => {
    wide = await makeImage('jpeg', 400, 200, { color: '#cc3333' });
    tiny = await makeImage('png', 40, 20, { color: '#cc3333' });
  });

  const cases: [string, ResolvedVariant, { width: number; height: number }, { width: number; height: number }][] = [
    ['cover', v('x', 100, 100, 'cover'), { width: 100, height: 100 }, { width: 100, height: 100 }],
    ['contain', v('x', 100, 100, 'contain'), { width: 100, height: 100 }, { width: 100, height: 100 }],
    ['fill', v('x', 100, 100, 'fill'), { width: 100, height: 100 }, { width: 100, height: 100 }],
    ['inside', v('x', 100, 100, 'inside'), { width: 100, height: 50 }, { width: 40, height: 20 }],
    ['outside', v('x', 100, 100, 'outside'), { width: 200, height: 100 }, { width: 40, height: 20 }],
    ['width only', v('x', 100, undefined), { width: 100, height: 50 }, { width: 40, height: 20 }],
    ['height only', v('x', undefined, 50), { width: 100, height: 50 }, { width: 40, height: 20 }],
  ];

  it.each(cases)('%s: documented size from a large and from a tiny source', async (_name, variant, fromWide, fromTiny) => {
    const a = await renderOne(wide, variant);
    expect({ width: a.width, height: a.height }).toEqual(fromWide);
    expect(await decode(a.body)).toMatchObject(fromWide);
    const b = await renderOne(tiny, variant);
    expect({ width: b.width, height: b.height }).toEqual(fromTiny);
    expect(await decode(b.body)).toMatchObject(fromTiny);
  });

  it('renders several variants from one source, each at its own size', async () => {
    const photo = await makeImage('jpeg', 1600, 1200, { noise: true });
    const variants = [v('small', 150, 150, 'cover'), v('large', 800, undefined), v('card', 300, 200, 'contain')];
    const out = await renderVariants(photo, variants, webp);
    expect([...out.keys()]).toEqual(['small', 'large', 'card']);
    expect(await decode(out.get('small')?.body as Buffer)).toMatchObject({ width: 150, height: 150, format: 'webp' });
    expect(await decode(out.get('large')?.body as Buffer)).toMatchObject({ width: 800, height: 600, format: 'webp' });
    expect(await decode(out.get('card')?.body as Buffer)).toMatchObject({ width: 300, height: 200, format: 'webp' });
  });

  it('resolves with an empty map for no variants', async () => {
    expect((await renderVariants(wide, [], webp)).size).toBe(0);
  });

  it('accepts the header read beforehand', async () => {
    const header = await readImageHeader(wide, { maxPixels: 1e8 });
    const out = await renderVariants(wide, [v('x', 50, undefined)], { ...webp, header });
    expect(out.get('x')).toMatchObject({ width: 50, height: 25 });
  });
});

describe('renderVariants: pixels', () => {
  it('applies EXIF orientation 6: a 400x200 landscape jpeg becomes portrait, pixels rotated', async () => {
    // Stored: left half red, right half blue. Orientation 6 displays it rotated 90° clockwise,
    // so the stored left (red) ends up on top.
    const body = await halvesJpeg(400, 200, '#ff0000', '#0000ff', 6);
    const image = await renderOne(body, v('x', 100, undefined), { format: 'png' });
    expect(image).toMatchObject({ width: 100, height: 200 });
    expect(near(await pixelAt(image.body, 50, 20), { r: 255, g: 0, b: 0 })).toBe(true);
    expect(near(await pixelAt(image.body, 50, 180), { r: 0, g: 0, b: 255 })).toBe(true);
  });

  it('renders a CMYK jpeg as 8-bit sRGB', async () => {
    const cmyk = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#3366cc' } }).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await renderOne(cmyk, v('x', 30, undefined), { format: 'png' });
    const meta = await sharp(image.body).metadata();
    expect(meta).toMatchObject({ space: 'srgb', channels: 3, depth: 'uchar' });
    // sRGB → CMYK → sRGB through libvips' generic CMYK profile loses some gamut: close, not exact.
    expect(near(await pixelAt(image.body, 15, 10), { r: 0x33, g: 0x66, b: 0xcc }, 40)).toBe(true);
  });

  it('renders a 16-bit png as 8-bit', async () => {
    const deep = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#3366cc' } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const image = await renderOne(deep, v('x', 30, undefined), { format: 'png' });
    expect(await sharp(image.body).metadata()).toMatchObject({ space: 'srgb', depth: 'uchar', bitsPerSample: 8 });
    expect(near(await pixelAt(image.body, 15, 10), { r: 0x33, g: 0x66, b: 0xcc }, 2)).toBe(true);
  });

  it('renders the first frame of an animated GIF, at frame size', async () => {
    const gif = await animatedGif(40, 30, ['#ff0000', '#00ff00', '#0000ff']);
    expect((await sharp(gif).metadata()).pages).toBe(3);
    const out = await renderVariants(gif, [v('same', 100, undefined), v('box', 80, 60, 'fill')], { ...webp, format: 'png' });
    const same = out.get('same') as RenderedImage;
    expect(same).toMatchObject({ width: 40, height: 30 });
    const meta = await sharp(same.body).metadata();
    expect(meta.pages ?? 1).toBe(1);
    expect(near(await pixelAt(same.body, 20, 15), { r: 255, g: 0, b: 0 })).toBe(true);
    expect(out.get('box')).toMatchObject({ width: 80, height: 60 });
    // GIFs decode with an alpha channel; an opaque one is written without it.
    expect(meta.channels).toBe(3);
  });

  it('letterboxes contain with transparency for png, webp and avif', async () => {
    const wide = await makeImage('jpeg', 400, 200, { color: '#cc3333' });
    for (const format of ['png', 'webp', 'avif'] as const) {
      const image = await renderOne(wide, v('x', 100, 100, 'contain'), { format });
      expect(await pixelAt(image.body, 50, 5)).toMatchObject({ a: 0 });
      const centre = await pixelAt(image.body, 50, 50);
      expect(centre.a).toBe(255);
      expect(near(centre, RED, 16)).toBe(true);
    }
  });

  it('letterboxes with transparency a source whose alpha channel is opaque everywhere (GIF, RGBA PNG)', async () => {
    // sharp drops a removed alpha channel last, after the bars are drawn: they used to come out black.
    const gif = await animatedGif(80, 40, ['#cc3333', '#00ff00']);
    const rgba = await sharp({ create: { width: 80, height: 40, channels: 4, background: { r: 204, g: 51, b: 51, alpha: 1 } } }).png().toBuffer();
    expect((await sharp(rgba).metadata()).channels).toBe(4);
    for (const source of [gif, rgba]) {
      for (const format of ['png', 'webp', 'avif'] as const) {
        const image = await renderOne(source, v('x', 100, 100, 'contain'), { format });
        expect(await pixelAt(image.body, 50, 5)).toMatchObject({ a: 0 });
        const centre = await pixelAt(image.body, 50, 50);
        expect(centre.a).toBe(255);
        expect(near(centre, RED, 16)).toBe(true);
      }
      // Other fits still drop the useless alpha channel.
      const cover = await renderOne(source, v('x', 50, 50, 'cover'), { format: 'png' });
      expect((await sharp(cover.body).metadata()).channels).toBe(3);
    }
  });

  it('letterboxes contain with white for jpeg', async () => {
    const wide = await makeImage('png', 400, 200, { color: '#cc3333' });
    const image = await renderOne(wide, v('x', 100, 100, 'contain'), { format: 'jpeg' });
    expect(near(await pixelAt(image.body, 50, 5), { r: 255, g: 255, b: 255 }, 4)).toBe(true);
    expect(near(await pixelAt(image.body, 50, 50), RED, 16)).toBe(true);
  });

  it('flattens a transparent source on white for jpeg', async () => {
    const clear = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const image = await renderOne(clear, v('x', 20, undefined), { format: 'jpeg' });
    expect(near(await pixelAt(image.body, 10, 10), { r: 255, g: 255, b: 255 }, 4)).toBe(true);
  });

  it('keeps transparency for png output', async () => {
    const clear = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toBuffer();
    const image = await renderOne(clear, v('x', 20, undefined), { format: 'png' });
    expect((await pixelAt(image.body, 10, 10)).a).toBeGreaterThan(100);
    expect((await pixelAt(image.body, 10, 10)).a).toBeLessThan(150);
  });
});

describe('renderVariants: output', () => {
  const formats: [OutputFormat, string, string][] = [
    ['webp', 'webp', 'image/webp'],
    ['jpeg', 'jpeg', 'image/jpeg'],
    ['png', 'png', 'image/png'],
    // sharp names the AVIF container `heif`; its compression tells AVIF from HEIC.
    ['avif', 'heif', 'image/avif'],
  ];

  it.each(formats)('%s decodes as that format, without EXIF, ICC or XMP', async (format, decoded, contentType) => {
    const source = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#3366cc' } })
      .withExif({ IFD0: { Copyright: 'someone', Software: 'camera' } })
      .withIccProfile('p3')
      .jpeg()
      .toBuffer();
    const sourceMeta = await sharp(source).metadata();
    expect(sourceMeta.exif).toBeDefined();
    expect(sourceMeta.icc).toBeDefined();
    const image = await renderOne(source, v('x', 60, undefined), { format });
    expect(image).toMatchObject({ format, contentType, width: 60, height: 40 });
    const meta = await sharp(image.body).metadata();
    expect(meta.format).toBe(decoded);
    if (format === 'avif') expect(meta.compression).toBe('av1');
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(await decode(image.body)).toMatchObject({ width: 60, height: 40 });
  });

  it('uses the quality for lossy formats', async () => {
    const photo = await makeImage('png', 300, 200, { noise: true });
    for (const format of ['webp', 'jpeg'] as const) {
      const low = await renderOne(photo, v('x', 200, undefined), { format, quality: 20 });
      const high = await renderOne(photo, v('x', 200, undefined), { format, quality: 95 });
      expect(low.body.length).toBeLessThan(high.body.length);
    }
  });
});

describe('renderVariants: refusals', () => {
  it.each(['jpeg', 'png', 'webp', 'gif'] as const)('refuses truncated %s with DecodeError (never grey rows)', async (format) => {
    const full = await makeImage(format, 300, 200, { noise: true });
    for (const fraction of [0.5, 0.9]) {
      const cut = truncate(full, fraction);
      await expect(renderVariants(cut, [v('x', 100, undefined)], { ...webp, url: 'http://127.0.0.1/cut' })).rejects.toMatchObject({
        code: ErrorCodes.DECODE_FAILED,
        url: 'http://127.0.0.1/cut',
      });
    }
  });

  it('refuses a truncated jpeg even when the header was read before the cut was known', async () => {
    const full = await makeImage('jpeg', 300, 200, { noise: true });
    const header = await readImageHeader(full, { maxPixels: 1e8 });
    const error = await renderVariants(truncate(full, 0.6), [v('x', 100, undefined)], { ...webp, header }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.DECODE_FAILED });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('refuses bytes no accepted loader reads (BMP) with DecodeError', async () => {
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(1, 18);
    bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    await expect(renderVariants(bmp, [v('x', 10, undefined)], webp)).rejects.toMatchObject({ code: ErrorCodes.DECODE_FAILED });
  });

  it('stops with AbortedError when the signal is already aborted', async () => {
    const body = await makeImage('jpeg', 100, 100);
    const controller = new AbortController();
    controller.abort();
    await expect(renderVariants(body, [v('x', 10, undefined)], { ...webp, signal: controller.signal })).rejects.toMatchObject({ code: ErrorCodes.ABORTED });
  });

  it('stops with AbortedError at the next stage when aborted mid-way', async () => {
    const body = await makeImage('jpeg', 400, 300, { noise: true });
    const controller = new AbortController();
    const pending = renderVariants(body, [v('a', 100, undefined), v('b', 50, undefined)], { ...webp, signal: controller.signal });
    controller.abort(new Error('user went away'));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.ABORTED });
    expect((error as Error).cause).toMatchObject({ message: 'user went away' });
  });
});
