import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { heifCodec } from '../../src/imaging/heif-codec.js';
import { withItemType } from './fixtures.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));

describe('heifCodec', () => {
  it('reads AV1 from the image item, whatever the brand says', () => {
    expect(fixture('photo.avif').toString('latin1', 8, 12)).toBe('avif');
    expect(heifCodec(fixture('photo.avif'))).toBe('av1');
    expect(fixture('av1.heif').toString('latin1', 8, 12)).toBe('mif1');
    expect(heifCodec(fixture('av1.heif'))).toBe('av1');
    expect(heifCodec(fixture('p3-10bit.avif'))).toBe('av1');
  });

  it('reads HEVC items as hevc', () => {
    expect(heifCodec(withItemType(fixture('av1.heif'), 'hvc1'))).toBe('hevc');
    expect(heifCodec(withItemType(fixture('av1.heif'), 'hev1'))).toBe('hevc');
  });

  it('says nothing about what it cannot read', () => {
    expect(heifCodec(Buffer.alloc(0))).toBeUndefined();
    expect(heifCodec(fixture('av1.heif').subarray(0, 120))).toBeUndefined();
    expect(heifCodec(fixture('orient-1.jpg'))).toBeUndefined();
    const sizes = Buffer.from(fixture('av1.heif'));
    sizes.writeUInt32BE(3, 0);
    expect(heifCodec(sizes)).toBeUndefined();
  });
});
