import { rgbaToThumbHash } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { MAX_THUMBHASH_BYTES, MIN_THUMBHASH_BYTES, parseThumbHash, readThumbHashHint } from '../../src/imaging/parse-thumbhash.js';
import { drawPhoto } from '../helpers/photo-like.js';

/** A real ThumbHash of a w × h photo-like image (drawn at most 100 px, as the library requires). */
function hashOf(w: number, h: number, alpha = false): Uint8Array {
  const raw = drawPhoto(w * 31 + h, w, h, 4);
  if (!alpha) for (let i = 3; i < raw.length; i += 4) raw[i] = 255;
  return rgbaToThumbHash(w, h, raw);
}

const SHAPES: Array<[number, number]> = [[100, 100], [100, 75], [75, 100], [100, 14], [14, 100], [100, 50], [33, 100]];

describe('parseThumbHash', () => {
  it('accepts the library’s hashes of every shape, with and without alpha, and decodes them once', () => {
    const lengths = new Set<number>();
    for (const [w, h] of SHAPES) {
      for (const alpha of [false, true]) {
        const bytes = hashOf(w, h, alpha);
        lengths.add(bytes.length);
        const parsed = parseThumbHash(Buffer.from(bytes).toString('base64'));
        expect(parsed.ok, `${w}x${h} alpha ${alpha}`).toBe(true);
        if (!parsed.ok) continue;
        expect(parsed.hash.hasAlpha).toBe(alpha);
        expect(parsed.hash.bytes).toEqual(bytes);
        expect(Math.abs(Math.log(parsed.hash.aspectRatio / (w / h)))).toBeLessThan(Math.log(1.6));
        expect(parsed.hash.image.rgba.length).toBe(parsed.hash.image.width * parsed.hash.image.height * 4);
        expect(Math.max(parsed.hash.image.width, parsed.hash.image.height)).toBe(32);
      }
    }
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(MIN_THUMBHASH_BYTES);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_THUMBHASH_BYTES);
  });

  it('accepts unpadded base64, base64url and surrounding whitespace, and normalises them', () => {
    const bytes = hashOf(100, 75);
    const standard = Buffer.from(bytes).toString('base64');
    for (const text of [standard, standard.replace(/=+$/, ''), Buffer.from(bytes).toString('base64url'), ` ${standard}\n`]) {
      const parsed = parseThumbHash(text);
      expect(parsed.ok ? parsed.hash.base64 : parsed.message, JSON.stringify(text)).toBe(standard);
    }
  });

  it('refuses junk with a message, never an exception', () => {
    const bytes = hashOf(100, 75);
    const good = Buffer.from(bytes).toString('base64');
    const zeroSide = Buffer.from(bytes);
    zeroSide[3] = zeroSide[3]! & ~7;
    const alphaSideTooLong = Buffer.from(hashOf(100, 100, true));
    alphaSideTooLong[3] = (alphaSideTooLong[3]! & ~7) | 7;
    const cases: Array<[unknown, RegExp]> = [
      [42, /base64 string, got number/],
      [null, /got null/],
      [{}, /got object/],
      ['', /at least/],
      [good.slice(0, 12), /at least/],
      [good.repeat(2), /at most 36/],
      ['x'.repeat(1_000_000), /at most 36/],
      [`${good.slice(0, -4)}#$%^`, /expected base64/],
      [`${good.replace(/=+$/, '')}A=`, /expected base64/],
      [`${good.slice(0, 10)}-${good.slice(11, 20)}+${good.slice(21)}`, /expected base64/],
      [Buffer.from(bytes.subarray(0, -1)).toString('base64'), /implies \d+ bytes, got/],
      [Buffer.concat([bytes, Buffer.from([1, 2, 3])]).toString('base64'), /implies \d+ bytes, got/],
      [zeroSide.toString('base64'), /luminance size/],
      [alphaSideTooLong.toString('base64'), /luminance size/],
    ];
    for (const [value, message] of cases) {
      const parsed = parseThumbHash(value);
      expect(parsed.ok, String(value).slice(0, 40)).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(message);
    }
  });

  it('readThumbHashHint: undefined, null and the empty string are no hash at all', () => {
    expect(readThumbHashHint(undefined)).toBeUndefined();
    expect(readThumbHashHint(null)).toBeUndefined();
    expect(readThumbHashHint('')).toBeUndefined();
    expect(readThumbHashHint(' ')?.ok).toBe(false);
    expect(readThumbHashHint(Buffer.from(hashOf(50, 50)).toString('base64'))?.ok).toBe(true);
  });
});
