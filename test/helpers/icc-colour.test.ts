import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMatrixProfile } from './icc-colour.js';
import { srgbColourSpace } from './reference-render.js';

let colour: Awaited<ReturnType<typeof srgbColourSpace>>;
beforeAll(async () => {
  colour = await srgbColourSpace();
});

describe('icc-colour (the fidelity reference maths)', () => {
  it('parses libvips’ sRGB profile and maps sRGB to itself', () => {
    expect(colour.srgb.kind).toBe('rgb');
    for (const rgb of [[1, 120 / 255, 0], [0.2, 0.5, 0.9], [0, 0, 0], [1, 1, 1]] as const) {
      const out = colour.space.toSrgb(rgb, colour.srgb);
      for (let k = 0; k < 3; k++) expect(out[k]).toBeCloseTo(rgb[k]!, 3);
    }
  });

  it('puts sRGB white at L* 100 and a neutral grey on the neutral axis', () => {
    const [L, a, b] = colour.space.srgbToLab(1, 1, 1);
    expect(L).toBeCloseTo(100, 1);
    expect(Math.abs(a) + Math.abs(b)).toBeLessThan(0.1);
    const [, ga, gb] = colour.space.srgbToLab(0.5, 0.5, 0.5);
    expect(Math.abs(ga) + Math.abs(gb)).toBeLessThan(0.1);
  });

  it('undoes a Display P3 conversion made by lcms (an sRGB orange survives the round trip)', async () => {
    const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 255, g: 120, b: 0 } } }).withIccProfile('p3').png().toBuffer();
    const { icc } = await sharp(tagged).metadata();
    const p3 = parseMatrixProfile(icc!);
    expect(p3?.kind).toBe('rgb');
    const raw = await sharp(tagged, { ignoreIcc: true }).raw().toBuffer();
    // Stored as P3 values, not the sRGB ones.
    expect([...raw]).not.toEqual([255, 120, 0]);
    const back = colour.space.toSrgb([...raw].map((v) => v / 255), p3!).map((v) => v * 255);
    // 8-bit P3 storage costs up to about one step per channel, more where sRGB's blue is near 0.
    expect(Math.abs(back[0]! - 255)).toBeLessThan(1.5);
    expect(Math.abs(back[1]! - 120)).toBeLessThan(1.5);
    expect(back[2]!).toBeLessThan(4);
  });

  it('clips what sRGB cannot show, as a relative colorimetric transform does', async () => {
    const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).withIccProfile('p3').png().toBuffer();
    const p3 = parseMatrixProfile((await sharp(tagged).metadata()).icc!)!;
    // P3's own red and green lie outside sRGB.
    expect(colour.space.toSrgb([1, 0, 0], p3)).toEqual([1, 0, 0]);
    expect(colour.space.toSrgb([0, 1, 0], p3)).toEqual([0, 1, 0]);
  });

  it('returns undefined for a profile without matrix/TRC tags', () => {
    const header = Buffer.alloc(132);
    header.write('CMYK', 16, 'latin1');
    expect(parseMatrixProfile(header)).toBeUndefined();
  });
});
