/**
 * Sources deeper than 8 bits with an embedded ICC profile (16-bit PNG, 10-bit AVIF) are
 * converted to sRGB like every other source, fetched through `get()` from a loopback origin.
 * libvips takes them to Display P3 on load; they used to leave with P3 values written as sRGB.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { deltaE2000 } from '../helpers/ciede2000.js';
import { builtinProfile, tagPng } from '../helpers/icc-tagging.mjs';
import { referenceRender, srgbColourSpace } from '../helpers/reference-render.js';
import { useHarness } from '../regenerator/support.js';

const VARIANTS = { large: { width: 160 } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));
const ORANGE = { r: 255, g: 120, b: 0 };

let colour: Awaited<ReturnType<typeof srgbColourSpace>>;
beforeAll(async () => {
  colour = await srgbColourSpace();
});

/** A flat 16-bit RGB PNG of `rgb` (8-bit values scaled to 16 bits), untagged. */
function flat16(rgb: { r: number; g: number; b: number }): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: rgb } }).toColourspace('rgb16').png().toBuffer();
}

/** Render `body` through get() as PNG (lossless, so only the pipeline shows) and return it. */
async function renderPng(body: Buffer, contentType: string): Promise<Buffer> {
  const server = await origin({ '/source': { kind: 'image', body, contentType } });
  const thumb = await regenerator(server, { format: 'png' }).get({ url: server.urlFor('/source') }, 'large');
  expect({ outcome: thumb.outcome, reason: thumb.reason }).toEqual({ outcome: 'regenerated', reason: undefined });
  return thumb.body;
}

async function centre(png: Buffer): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [...data.subarray(i, i + 3)];
}

describe('16-bit and 10-bit sources with an ICC profile', () => {
  it('a 16-bit PNG tagged sRGB keeps (255,120,0), as the untagged one does', async () => {
    const untagged = await flat16(ORANGE);
    const tagged = tagPng(untagged, await builtinProfile('srgb'), 'sRGB');
    expect(await sharp(tagged).metadata()).toMatchObject({ depth: 'ushort', hasProfile: true });
    expect(await centre(await renderPng(tagged, 'image/png'))).toEqual([255, 120, 0]);
    expect(await centre(await renderPng(untagged, 'image/png'))).toEqual([255, 120, 0]);
  });

  it('a 16-bit PNG in Display P3 comes out as the sRGB colour it shows', async () => {
    const srgbTagged = tagPng(await flat16(ORANGE), await builtinProfile('srgb'), 'sRGB');
    // libvips converts the sRGB-tagged pixels to P3 (16 bits kept) and tags them P3.
    const p3 = await sharp(srgbTagged).withIccProfile('p3').toColourspace('rgb16').png().toBuffer();
    const stored = await sharp(p3, { ignoreIcc: true }).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
    expect([...new Uint16Array(stored.buffer, stored.byteOffset, 3)].map((v) => Math.round(v / 257))).not.toEqual([255, 120, 0]);
    const [r = 0, g = 0, b = 0] = await centre(await renderPng(p3, 'image/png'));
    expect(Math.abs(r - 255) + Math.abs(g - 120) + Math.abs(b - 0)).toBeLessThanOrEqual(2);
  });

  it('a 16-bit greyscale PNG tagged Gray 2.2 is converted too (deep shadows show it)', async () => {
    // Linear luminance 0.002: 15/255 if its γ 2.2 code were taken for sRGB, 7/255 in sRGB.
    const code = Math.round(0.002 ** (256 / 563) * 65535);
    const grey = await sharp(new Uint16Array(64 * 48).fill(code), { raw: { width: 64, height: 48, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const gray22 = (await sharp(fixture('grey16-gamma22.png')).metadata()).icc!;
    const [r = 0, g = 0, b = 0] = await centre(await renderPng(tagPng(grey, gray22, 'Gray 2.2'), 'image/png'));
    expect([r, g, b].every((v) => Math.abs(v - 7) <= 1)).toBe(true);
  });

  it.each([
    ['rgb16-srgb.png', 'image/png'],
    ['rgb16-p3.png', 'image/png'],
    ['rgba16-p3.png', 'image/png'],
    ['p3-10bit.avif', 'image/avif'],
  ])('%s matches the reference rendering (mean ΔE00 under 1, was 2–3)', async (file, contentType) => {
    const body = fixture(file);
    const png = await renderPng(body, contentType);
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const ref = await referenceRender(body, { width: 160, height: 160, fit: 'inside' }, colour);
    expect({ width: info.width, height: info.height }).toEqual({ width: ref.width, height: ref.height });
    let sum = 0;
    let counted = 0;
    for (let p = 0; p < ref.width * ref.height; p++) {
      if (ref.alpha[p]! < 0.5) continue;
      const expected = colour.space.srgbToLab(ref.rgb[p * 3]!, ref.rgb[p * 3 + 1]!, ref.rgb[p * 3 + 2]!);
      const actual = colour.space.srgbToLab(data[p * 4]! / 255, data[p * 4 + 1]! / 255, data[p * 4 + 2]! / 255);
      sum += deltaE2000(expected, actual);
      counted += 1;
    }
    expect(sum / counted).toBeLessThan(1);
  });
});
