import { describe, expect, it } from 'vitest';
import { fitWithin, intermediateSize, variantSize } from '../../src/imaging/variant-size.js';
import type { ResolvedVariant } from '../../src/options.js';
import type { Fit } from '../../src/types.js';

const v = (width: number | undefined, height: number | undefined, fit: Fit = 'inside', name = 'v'): ResolvedVariant => ({ name, width, height, fit });
const photo = { width: 4000, height: 3000 };
const tiny = { width: 40, height: 20 };

describe('variantSize', () => {
  it('cover, contain and fill give the box, even from a tiny source', () => {
    for (const fit of ['cover', 'contain', 'fill'] as const) {
      expect(variantSize(photo, v(150, 150, fit))).toEqual({ width: 150, height: 150 });
      expect(variantSize(tiny, v(150, 100, fit))).toEqual({ width: 150, height: 100 });
    }
  });

  it('inside fits within the box, keeping the aspect ratio', () => {
    expect(variantSize(photo, v(150, 150))).toEqual({ width: 150, height: 113 });
    expect(variantSize({ width: 3000, height: 4000 }, v(150, 150))).toEqual({ width: 113, height: 150 });
  });

  it('outside covers the box, keeping the aspect ratio', () => {
    expect(variantSize(photo, v(150, 150, 'outside'))).toEqual({ width: 200, height: 150 });
    expect(variantSize({ width: 3000, height: 4000 }, v(150, 150, 'outside'))).toEqual({ width: 150, height: 200 });
  });

  it('one side: that side exactly, the other from the aspect ratio', () => {
    expect(variantSize(photo, v(800, undefined))).toEqual({ width: 800, height: 600 });
    expect(variantSize(photo, v(undefined, 300))).toEqual({ width: 400, height: 300 });
    expect(variantSize(photo, v(800, undefined, 'outside'))).toEqual({ width: 800, height: 600 });
  });

  it('inside and outside never enlarge', () => {
    expect(variantSize(tiny, v(150, 150))).toEqual(tiny);
    expect(variantSize(tiny, v(150, 150, 'outside'))).toEqual(tiny);
    expect(variantSize(tiny, v(800, undefined))).toEqual(tiny);
    // outside of 30x30 from 40x20 would need 60x30: an enlargement, so the source size.
    expect(variantSize(tiny, v(30, 30, 'outside'))).toEqual(tiny);
  });

  it('never rounds a side down to zero', () => {
    expect(variantSize({ width: 10_000, height: 10 }, v(100, undefined))).toEqual({ width: 100, height: 1 });
  });
});

describe('intermediateSize', () => {
  it('is just large enough for the largest variant', () => {
    const variants = [v(150, 150, 'cover'), v(800, undefined), v(300, 300, 'contain')];
    expect(intermediateSize(photo, variants)).toEqual({ width: 800, height: 600 });
  });

  it('uses the larger side ratio for cover, outside and fill, the smaller for inside and contain', () => {
    // 4000x3000 into 200x300: side ratios 0.05 and 0.1.
    expect(intermediateSize(photo, [v(200, 300, 'cover')])).toEqual({ width: 400, height: 300 });
    expect(intermediateSize(photo, [v(200, 300, 'outside')])).toEqual({ width: 400, height: 300 });
    expect(intermediateSize(photo, [v(200, 300, 'fill')])).toEqual({ width: 400, height: 300 });
    expect(intermediateSize(photo, [v(200, 300, 'inside')])).toEqual({ width: 200, height: 150 });
    expect(intermediateSize(photo, [v(200, 300, 'contain')])).toEqual({ width: 200, height: 150 });
  });

  it('never exceeds the source, even when a variant enlarges', () => {
    expect(intermediateSize(tiny, [v(150, 150, 'cover')])).toEqual(tiny);
    expect(intermediateSize(photo, [v(8000, 8000, 'fill'), v(100, 100)])).toEqual(photo);
  });

  it('is never smaller than any variant that reduces', () => {
    const sources = [photo, { width: 3000, height: 4000 }, { width: 1234, height: 567 }, { width: 999, height: 1001 }];
    const variants = [v(150, 150, 'cover'), v(333, undefined), v(undefined, 77), v(640, 480, 'outside'), v(200, 90, 'contain')];
    for (const source of sources) {
      const mid = intermediateSize(source, variants);
      for (const variant of variants) {
        const out = variantSize(source, variant);
        if (variant.fit === 'inside' || variant.fit === 'outside') {
          expect(mid.width).toBeGreaterThanOrEqual(out.width);
          expect(mid.height).toBeGreaterThanOrEqual(out.height);
        }
      }
    }
  });

  it('forgives float noise (no 151 for an exact 150)', () => {
    expect(intermediateSize(photo, [v(150, undefined)])).toEqual({ width: 150, height: 113 });
  });
});

describe('fitWithin (an output format\'s side limit)', () => {
  it('leaves a size that fits alone', () => {
    expect(fitWithin({ width: 600, height: 16_383 }, 16_383)).toEqual({ width: 600, height: 16_383 });
  });

  it('scales the longer side to the limit and keeps the aspect ratio', () => {
    expect(fitWithin({ width: 600, height: 20_000 }, 16_383)).toEqual({ width: 491, height: 16_383 });
    expect(fitWithin({ width: 20_000, height: 600 }, 16_383)).toEqual({ width: 16_383, height: 491 });
    expect(fitWithin({ width: 30_000, height: 20_000 }, 16_383)).toEqual({ width: 16_383, height: 10_922 });
  });

  it('never rounds a side to 0', () => {
    expect(fitWithin({ width: 1, height: 100_000 }, 16_383)).toEqual({ width: 1, height: 16_383 });
  });
});
