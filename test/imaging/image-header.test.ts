import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, PixelLimitError } from '../../src/errors.js';
import { restrictDecoders } from '../../src/imaging/decoder-policy.js';
import { readImageHeader, renderVariants } from '../../src/imaging/render-variants.js';
import { makeImage, pngDeclaring } from '../helpers/images.js';
import { animatedGif } from './fixtures.js';

const small = [{ name: 'small', width: 100, height: 100, fit: 'cover' as const }];

beforeAll(() => restrictDecoders({ allowSvg: false }));

describe('readImageHeader', () => {
  it('reads size, format and frames without decoding', async () => {
    expect(await readImageHeader(await makeImage('webp', 300, 200), { maxPixels: 1e8 })).toEqual({ width: 300, height: 200, format: 'webp', pages: 1, space: 'srgb', hasProfile: false });
  });

  it('reports the size after EXIF orientation', async () => {
    const body = await makeImage('jpeg', 400, 200, { orientation: 6 });
    expect(await readImageHeader(body, { maxPixels: 1e8 })).toMatchObject({ width: 200, height: 400, format: 'jpeg' });
  });

  it('reports the frame size and the frame count of an animation', async () => {
    const gif = await animatedGif(40, 30, ['#f00', '#0f0', '#00f']);
    expect(await readImageHeader(gif, { maxPixels: 1e8 })).toEqual({ width: 40, height: 30, format: 'gif', pages: 3, space: 'srgb', hasProfile: false });
  });

  it('reads an AV1-coded HEIF under a plain mif1 brand, which libvips reports as hevc', async () => {
    const av1 = readFileSync(new URL('../fixtures/images/av1.heif', import.meta.url));
    expect(await sharp(av1).metadata()).toMatchObject({ format: 'heif', compression: 'hevc' });
    expect(await readImageHeader(av1, { maxPixels: 1e8 })).toMatchObject({ width: 640, height: 427, format: 'heif' });
  });

  it('reports the stored colour space and whether a profile is embedded (a tagged 16-bit PNG)', async () => {
    const png = readFileSync(new URL('../fixtures/images/rgb16-srgb.png', import.meta.url));
    expect(await readImageHeader(png, { maxPixels: 1e8 })).toMatchObject({ width: 200, height: 133, space: 'rgb16', hasProfile: true });
  });

  it('refuses a pixel bomb from its header: 50000x50000 declared in a 1x1 PNG', async () => {
    const bomb = await pngDeclaring(50_000, 50_000);
    expect(bomb.length).toBeLessThan(200);
    // Decoding would fail with DecodeError (there is one pixel of data): PixelLimitError proves
    // that the header alone decided.
    const error = await readImageHeader(bomb, { maxPixels: 100_000_000, url: 'http://127.0.0.1/bomb.png' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PixelLimitError);
    expect(error).toMatchObject({ code: ErrorCodes.PIXEL_LIMIT, limit: 100_000_000, pixels: 2_500_000_000, url: 'http://127.0.0.1/bomb.png' });
  });

  it('applies the limit exactly: width x height equal to maxPixels passes, one more does not', async () => {
    const body = await makeImage('png', 100, 50);
    expect(await readImageHeader(body, { maxPixels: 5000 })).toMatchObject({ width: 100, height: 50 });
    await expect(readImageHeader(body, { maxPixels: 4999 })).rejects.toMatchObject({ code: ErrorCodes.PIXEL_LIMIT });
  });

  it('refuses unreadable bytes with DecodeError', async () => {
    await expect(readImageHeader(Buffer.from('not an image at all'), { maxPixels: 1e8 })).rejects.toMatchObject({ code: ErrorCodes.DECODE_FAILED });
    await expect(readImageHeader(Buffer.alloc(0), { maxPixels: 1e8 })).rejects.toMatchObject({ code: ErrorCodes.DECODE_FAILED });
  });
});

describe('renderVariants and the pixel limit', () => {
  it('refuses the bomb before decoding', async () => {
    const bomb = await pngDeclaring(50_000, 50_000);
    await expect(renderVariants(bomb, small, { format: 'webp', quality: 80, maxPixels: 100_000_000 })).rejects.toMatchObject({ code: ErrorCodes.PIXEL_LIMIT });
  });

  it('refuses it through sharp’s limitInputPixels when a caller passes a header that understates it', async () => {
    const body = await makeImage('png', 300, 200);
    const lying = { width: 10, height: 10, format: 'png', pages: 1 };
    const error = await renderVariants(body, small, { format: 'webp', quality: 80, maxPixels: 1000, header: lying }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.PIXEL_LIMIT, pixels: 60_000, limit: 1000 });
  });

  it('refuses a header passed in that is over the limit', async () => {
    const body = await makeImage('png', 30, 20);
    const header = await readImageHeader(body, { maxPixels: 1e8 });
    await expect(renderVariants(body, small, { format: 'webp', quality: 80, maxPixels: 500, header })).rejects.toMatchObject({ code: ErrorCodes.PIXEL_LIMIT });
  });
});
