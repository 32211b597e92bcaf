import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { expectValidThumbnail, isPlaceholder, isStandIn } from '../../src/testing/index.js';
import type { Thumbnail } from '../../src/types.js';
import { makeImage } from '../helpers/images.js';

async function thumb(format: 'webp' | 'png' | 'jpeg', width: number, height: number, extra: Partial<Thumbnail> = {}): Promise<Thumbnail> {
  return {
    body: await makeImage(format, width, height),
    contentType: `image/${format}`,
    width,
    height,
    outcome: 'regenerated',
    degraded: false,
    key: 'k',
    variant: 'v',
    ...extra,
  };
}

describe('expectValidThumbnail()', () => {
  it('accepts the box for cover/contain/fill and anything within it for inside and one-sided variants', async () => {
    expect(await expectValidThumbnail(await thumb('webp', 64, 48), { width: 64, height: 48, fit: 'cover' })).toEqual({ width: 64, height: 48, format: 'webp' });
    await expectValidThumbnail(await thumb('png', 64, 48), { width: 64, height: 48, fit: 'fill' });
    await expectValidThumbnail(await thumb('jpeg', 100, 50), { width: 100, height: 100 });
    await expectValidThumbnail(await thumb('webp', 120, 80), { width: 120 });
    await expectValidThumbnail(await thumb('webp', 130, 100), { width: 100, height: 100, fit: 'outside' });
  });

  it.each([
    ['a cover thumbnail smaller than the box', () => thumb('webp', 60, 48), { width: 64, height: 48, fit: 'cover' as const }],
    ['an inside thumbnail larger than the box', () => thumb('webp', 130, 50), { width: 120, height: 120 }],
    ['a one-sided variant exceeded', () => thumb('webp', 50, 300), { height: 200 }],
    ['bytes that are not what contentType says', async () => ({ ...(await thumb('png', 64, 64)), contentType: 'image/webp' }), { width: 64, height: 64 }],
    ['declared size that is not the decoded size', async () => ({ ...(await thumb('webp', 64, 64)), width: 32 }), { width: 64, height: 64 }],
    ['a body that does not decode', async () => ({ ...(await thumb('webp', 64, 64)), body: Buffer.from('<html>') }), { width: 64, height: 64 }],
  ])('rejects %s with an AssertionError', async (_name, make, variant) => {
    await expect(expectValidThumbnail(await make(), variant)).rejects.toBeInstanceOf(AssertionError);
  });
});

describe('isPlaceholder() and isStandIn()', () => {
  it('tell placeholders and degraded stand-ins apart from real thumbnails', () => {
    expect(isPlaceholder({ outcome: 'placeholder' })).toBe(true);
    expect(isPlaceholder({ outcome: 'derived' })).toBe(false);
    expect(isStandIn({ degraded: true })).toBe(true);
    expect(isStandIn({ degraded: false })).toBe(false);
  });
});
