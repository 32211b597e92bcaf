import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlaceholderRenderer, placeholderBox } from '../../src/imaging/placeholder.js';
import { MAX_VARIANT_SIDE, type ResolvedVariant } from '../../src/options.js';
import type { Fit, OutputFormat } from '../../src/types.js';
import { decode } from '../helpers/images.js';

const v = (width: number | undefined, height: number | undefined, fit: Fit = 'inside', name = 'v'): ResolvedVariant => ({ name, width, height, fit });
const renderer = (format: OutputFormat = 'webp', quality = 80) => new PlaceholderRenderer({ format, quality, defaultColor: '#e4e4e7' });

async function meanColor(body: Buffer): Promise<{ r: number; g: number; b: number }> {
  const { channels } = await sharp(body).stats();
  return { r: channels[0]?.mean ?? -1, g: channels[1]?.mean ?? -1, b: channels[2]?.mean ?? -1 };
}

function close(a: { r: number; g: number; b: number }, b: { r: number; g: number; b: number }, tolerance = 6): boolean {
  return Math.abs(a.r - b.r) <= tolerance && Math.abs(a.g - b.g) <= tolerance && Math.abs(a.b - b.b) <= tolerance;
}

describe('placeholderBox', () => {
  it('is the box when the variant has both sides, whatever the hints', () => {
    expect(placeholderBox(v(150, 150, 'cover'), { width: 1600, height: 900 })).toEqual({ width: 150, height: 150 });
    expect(placeholderBox(v(300, 200), {})).toEqual({ width: 300, height: 200 });
  });

  it('takes the other side from the hints’ aspect ratio', () => {
    expect(placeholderBox(v(800, undefined), { width: 1600, height: 900 })).toEqual({ width: 800, height: 450 });
    expect(placeholderBox(v(undefined, 450), { width: 1600, height: 900 })).toEqual({ width: 800, height: 450 });
  });

  it('is square without hints', () => {
    expect(placeholderBox(v(800, undefined), {})).toEqual({ width: 800, height: 800 });
    expect(placeholderBox(v(undefined, 120), {})).toEqual({ width: 120, height: 120 });
  });

  it('clamps to MAX_VARIANT_SIDE and to at least 1', () => {
    expect(placeholderBox(v(800, undefined), { width: 1, height: 100_000 })).toEqual({ width: 800, height: MAX_VARIANT_SIDE });
    expect(placeholderBox(v(800, undefined), { width: 100_000, height: 1 })).toEqual({ width: 800, height: 1 });
  });

  it('ignores invalid hints: negative, zero, NaN, infinite, huge, not numbers, one side only', () => {
    const junk: unknown[] = [-1600, 0, Number.NaN, Number.POSITIVE_INFINITY, 1e300, '1600', null, undefined, {}];
    for (const width of junk) {
      expect(placeholderBox(v(300, undefined), { width: width as number, height: 900 })).toEqual({ width: 300, height: 300 });
      expect(placeholderBox(v(300, undefined), { width: 900, height: width as number })).toEqual({ width: 300, height: 300 });
    }
    expect(placeholderBox(v(300, undefined), undefined as unknown as object)).toEqual({ width: 300, height: 300 });
  });
});

describe('PlaceholderRenderer', () => {
  it('renders exactly the box, decodable, in the output format', async () => {
    for (const format of ['webp', 'jpeg', 'png', 'avif'] as const) {
      const image = await renderer(format).render(v(150, 100, 'cover'), {});
      expect(image).toMatchObject({ width: 150, height: 100, format });
      expect(await decode(image.body)).toMatchObject({ width: 150, height: 100, format: format === 'avif' ? 'heif' : format });
    }
  });

  it('renders a one-sided variant at the hinted 16:9', async () => {
    const image = await renderer().render(v(800, undefined), { width: 1600, height: 900 });
    expect(await decode(image.body)).toMatchObject({ width: 800, height: 450 });
  });

  it('renders a one-sided variant square without hints', async () => {
    const image = await renderer().render(v(undefined, 64), {});
    expect(await decode(image.body)).toMatchObject({ width: 64, height: 64 });
  });

  it('is tinted by a valid colour hint, in every format', async () => {
    for (const format of ['webp', 'jpeg', 'png', 'avif'] as const) {
      const image = await renderer(format).render(v(40, 30), { color: '#1e90ff' });
      expect(close(await meanColor(image.body), { r: 0x1e, g: 0x90, b: 0xff })).toBe(true);
    }
    const short = await renderer('png').render(v(40, 30), { color: '#F00' });
    expect(close(await meanColor(short.body), { r: 255, g: 0, b: 0 }, 0)).toBe(true);
  });

  it('uses the default colour for a missing or invalid colour hint', async () => {
    const r = renderer('png');
    for (const color of [undefined, 'red', '#12345', '#ggg', 'rgb(0,0,0)', '', 42 as unknown as string]) {
      const image = await r.render(v(20, 20), { color });
      expect(close(await meanColor(image.body), { r: 0xe4, g: 0xe4, b: 0xe7 }, 0)).toBe(true);
    }
  });

  it('is deterministic: equal inputs give identical bytes, across renderers too', async () => {
    for (const format of ['webp', 'jpeg', 'png', 'avif'] as const) {
      const a = await renderer(format).render(v(120, 90), { color: '#336699' });
      const b = await renderer(format).render(v(120, 90), { color: '#336699' });
      expect(Buffer.compare(a.body, b.body)).toBe(0);
    }
  });

  it('caches: the same box and colour come back as the same image', async () => {
    const r = renderer();
    const first = await r.render(v(100, 100), { color: '#abc' });
    const again = await r.render(v(100, 100), { color: '#AABBCC' });
    expect(again).toBe(first);
    const other = await r.render(v(100, 100), { color: '#abd' });
    expect(other).not.toBe(first);
  });

  it('shares one render among concurrent callers', async () => {
    const r = renderer();
    const [a, b, c] = await Promise.all([r.render(v(300, 200), {}), r.render(v(300, 200), {}), r.render(v(300, 200), { color: 'junk' })]);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('stays bounded by maxEntries', async () => {
    const r = new PlaceholderRenderer({ format: 'png', quality: 100, defaultColor: '#000', maxEntries: 2 });
    const first = await r.render(v(10, 10), {});
    await r.render(v(11, 11), {});
    await r.render(v(12, 12), {});
    const again = await r.render(v(10, 10), {});
    expect(again).not.toBe(first);
    expect(Buffer.compare(again.body, first.body)).toBe(0);
  });
});

describe('PlaceholderRenderer with a ThumbHash', () => {
  // A real hash of a photo-like 4:3 image, computed as rethumb computes it on a render.
  let hash: string;
  let other: string;
  const hashOfPhoto = async (seed: number, width: number, height: number): Promise<string> => {
    const { thumbHashOf } = await import('../../src/imaging/thumbhash.js');
    const { drawPhoto } = await import('../helpers/photo-like.js');
    return thumbHashOf({ data: drawPhoto(seed, width, height, 3), width, height, channels: 3 });
  };

  beforeAll(async () => {
    hash = await hashOfPhoto(3, 400, 300);
    other = await hashOfPhoto(11, 300, 400);
  });

  it('draws the hash in the box of every fit and format, not flat, decodable', async () => {
    for (const format of ['webp', 'jpeg', 'png', 'avif'] as const) {
      for (const fit of ['cover', 'contain', 'fill', 'inside', 'outside'] as const) {
        const image = await renderer(format).render(v(90, 70, fit), { thumbhash: hash });
        expect(await decode(image.body), `${format} ${fit}`).toMatchObject({ width: 90, height: 70, format: format === 'avif' ? 'heif' : format });
        const { channels } = await sharp(image.body).stats();
        expect(Math.max(...channels.slice(0, 3).map((c) => c.stdev)), `${format} ${fit}`).toBeGreaterThan(3);
      }
    }
  });

  it('shapes a one-sided variant by the hash’s aspect ratio, unless width/height hints say otherwise', async () => {
    const wide = await renderer().render(v(140, undefined), { thumbhash: hash });
    expect(await decode(wide.body)).toMatchObject({ width: 140, height: 100 }); // ThumbHash keeps 4:3 as 7:5
    const hinted = await renderer().render(v(140, undefined), { thumbhash: hash, width: 1600, height: 900 });
    expect(await decode(hinted.body)).toMatchObject({ width: 140, height: 79 });
    expect(placeholderBox(v(undefined, 100), {}, 1.4)).toEqual({ width: 140, height: 100 });
  });

  it('wins over the colour hint; an invalid hash falls back to exactly the flat placeholder', async () => {
    const r = renderer('png');
    const flat = await r.render(v(60, 40), { color: '#1e90ff' });
    const drawn = await r.render(v(60, 40), { color: '#1e90ff', thumbhash: hash });
    expect(Buffer.compare(drawn.body, flat.body)).not.toBe(0);
    for (const junk of ['nope', `${hash.slice(0, -6)}`, 42, 'A'.repeat(5_000)]) {
      const image = await r.render(v(60, 40), { color: '#1e90ff', thumbhash: junk as string });
      expect(image).toBe(flat);
    }
  });

  it('is deterministic, and cached per box, fit and hash', async () => {
    const a = await renderer('webp').render(v(80, 80, 'cover'), { thumbhash: hash });
    const b = await renderer('webp').render(v(80, 80, 'cover'), { thumbhash: hash });
    expect(Buffer.compare(a.body, b.body)).toBe(0);
    const r = renderer();
    const first = await r.render(v(80, 80, 'cover'), { thumbhash: hash });
    expect(await r.render(v(80, 80, 'cover'), { thumbhash: ` ${hash}` })).toBe(first);
    expect(await r.render(v(80, 80, 'cover'), { thumbhash: other })).not.toBe(first);
    expect(await r.render(v(80, 80, 'contain'), { thumbhash: hash })).not.toBe(first);
    // inside, outside and fill all stretch the likeness over the box: one image.
    const fill = await r.render(v(80, 80, 'fill'), { thumbhash: hash });
    expect(await r.render(v(80, 80, 'inside'), { thumbhash: hash })).toBe(fill);
  });

  it('keeps its cache bounded in bytes: many hashes in big boxes evict each other', async () => {
    const sample = await renderer('png').render(v(400, 300), { thumbhash: hash });
    // Room for about two of them.
    const r = new PlaceholderRenderer({ format: 'png', quality: 80, defaultColor: '#000', maxBytes: sample.body.length * 2 + 1 });
    const first = await r.render(v(400, 300), { thumbhash: hash });
    expect(await r.render(v(400, 300), { thumbhash: hash })).toBe(first);
    for (const seed of [20, 21, 22]) await r.render(v(400, 300), { thumbhash: await hashOfPhoto(seed, 200, 150) });
    const again = await r.render(v(400, 300), { thumbhash: hash });
    expect(again).not.toBe(first);
    expect(Buffer.compare(again.body, first.body)).toBe(0);
  });
});
