/**
 * Issue 14's promise, end to end through get(): a source rendered once yields its ThumbHash;
 * when the source is gone, a record carrying that hash gets a placeholder that looks like the
 * image (mean colour within ΔE 10 of the real thumbnail), of the variant's box for every fit,
 * decodable, and still a placeholder in every other respect. Bad hashes fall back to the flat one.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { parseThumbHash } from '../../src/imaging/parse-thumbhash.js';
import { MemoryStore, type Fit, type RecordResult, type Thumbnail, type VariantSpec } from '../../src/index.js';
import { expectValidThumbnail, isPlaceholder } from '../../src/testing/index.js';
import type { OriginRoute } from '../../src/testing/test-origin.js';
import { deltaE76, meanColour } from '../helpers/colour-difference.js';
import type { FixtureFormat } from '../helpers/images.js';
import { photoLike } from '../helpers/photo-like.js';
import { useHarness } from './support.js';

const VARIANTS: Record<string, VariantSpec> = {
  cover: { width: 120, height: 90, fit: 'cover' },
  contain: { width: 120, height: 120, fit: 'contain' },
  fill: { width: 100, height: 60, fit: 'fill' },
  inside: { width: 120, height: 120, fit: 'inside' },
  outside: { width: 90, height: 90, fit: 'outside' },
  wide: { width: 160 },
};
const { origin, regenerator } = useHarness(VARIANTS);

interface Source {
  name: string;
  format: FixtureFormat;
  width: number;
  height: number;
  body: Buffer;
  alpha: boolean;
}

/** 24 photo-like sources: five formats, seven aspect ratios, six with alpha, one EXIF-rotated. */
const SHAPES: Array<[number, number]> = [[480, 360], [360, 480], [480, 270], [400, 400], [270, 480], [600, 200], [320, 480]];
const FORMATS: FixtureFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif'];
let sources: Source[];
let routes: Record<string, OriginRoute>;

beforeAll(async () => {
  sources = [];
  for (let i = 0; i < 24; i += 1) {
    const format = FORMATS[i % FORMATS.length]!;
    const [width, height] = SHAPES[i % SHAPES.length]!;
    const alpha = (format === 'png' || format === 'webp') && Math.floor(i / 5) % 2 === 0;
    // A 600×200 jpeg stored with EXIF orientation 6: the hash must describe the upright 200×600 image.
    const orientation = i === 5 ? 6 : undefined;
    const body = await photoLike(i, width, height, format, { alpha, ...(orientation ? { orientation } : {}) });
    sources.push({ name: `${i}-${format}-${width}x${height}${alpha ? '-alpha' : ''}${orientation ? '-exif6' : ''}`, format, width, height, body, alpha });
  }
  routes = { '/gone': { kind: 'status', status: 404 } };
  for (const [i, s] of sources.entries()) routes[`/img/${i}`] = { kind: 'image', body: s.body, contentType: `image/${s.format}` };
});

/** The box a placeholder of `spec` must have: the box, or for one side the other from `ratio`. */
function boxOf(spec: VariantSpec, ratio: number): { width: number; height: number } {
  if (spec.width !== undefined && spec.height !== undefined) return { width: spec.width, height: spec.height };
  if (spec.width !== undefined) return { width: spec.width, height: Math.max(1, Math.round(spec.width / ratio)) };
  return { width: Math.max(1, Math.round((spec.height as number) * ratio)), height: spec.height as number };
}

async function isFlat(body: Buffer): Promise<boolean> {
  const { channels } = await sharp(body).stats();
  return channels.slice(0, 3).every((c) => c.stdev < 1);
}

describe('ThumbHash placeholders from get()', () => {
  it('on 24 photo-like sources of five formats and seven shapes: ΔE < 10 to the real thumbnail, the box for every fit, decodable, a placeholder', async () => {
    const fits: Fit[] = ['cover', 'contain', 'fill', 'inside', 'outside'];
    expect(fits.every((fit) => Object.values(VARIANTS).some((v) => v.fit === fit))).toBe(true);
    const server = await origin(routes);
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const worst: Record<string, { deltaE: number; source: string }> = {};
    const all: number[] = [];
    let checked = 0;
    for (const [i, source] of sources.entries()) {
      const first = await regen.get({ key: `real/${i}`, url: server.urlFor(`/img/${i}`) }, 'cover');
      expect(first.outcome, `${source.name}: ${JSON.stringify(first.failures)}`).toBe('regenerated');
      const hash = first.thumbhash;
      expect(hash, source.name).toMatch(/^[A-Za-z0-9+/]{22,36}={0,2}$/);
      const ratio = (await import('thumbhash')).thumbHashToApproximateAspectRatio(Buffer.from(hash!, 'base64'));
      // The hash's aspect ratio is the upright image's (EXIF applied), within ThumbHash's 7 steps.
      const upright = source.name.includes('exif6') ? source.height / source.width : source.width / source.height;
      expect(Math.abs(Math.log(ratio / upright)), source.name).toBeLessThan(Math.log(1.25));

      for (const [name, spec] of Object.entries(VARIANTS)) {
        const real = await regen.get({ key: `real/${i}`, url: server.urlFor(`/img/${i}`) }, name);
        expect(real.thumbhash).toBe(hash);
        const stand = await regen.get({ key: `gone/${i}`, url: server.urlFor('/gone'), thumbhash: hash! }, name);
        expect(stand).toMatchObject({ outcome: 'placeholder', degraded: true, reason: ErrorCodes.HTTP_STATUS, thumbhash: hash });
        expect(isPlaceholder(stand), `${source.name} ${name}`).toBe(true);
        expect(stand.failures?.map((f) => f.source)).toEqual([server.urlFor('/gone')]);
        await expectValidThumbnail(stand, spec);
        expect({ width: stand.width, height: stand.height }, `${source.name} ${name}`).toEqual(boxOf(spec, ratio));
        expect(await isFlat(stand.body), `${source.name} ${name} is flat`).toBe(false);
        const deltaE = deltaE76(await meanColour(real.body), await meanColour(stand.body));
        expect(deltaE, `${source.name} ${name}: ΔE ${deltaE.toFixed(2)}`).toBeLessThan(10);
        all.push(deltaE);
        if (deltaE > (worst[name]?.deltaE ?? -1)) worst[name] = { deltaE: Math.round(deltaE * 100) / 100, source: source.name };
        checked += 1;
      }
      // Never stored: the store holds nothing for the records whose source was gone.
      for (const name of Object.keys(VARIANTS)) expect(await store.head({ key: `gone/${i}`, variant: name, format: 'webp' })).toBeUndefined();
    }
    expect(checked).toBe(24 * Object.keys(VARIANTS).length);
    all.sort((a, b) => a - b);
    const median = Math.round(all[Math.floor(all.length / 2)]! * 100) / 100;
    process.stdout.write(`ThumbHash placeholder vs real thumbnail (${all.length} pairs): median ΔE76 ${median}, worst per variant ${JSON.stringify(worst)}\n`);
  });

  it('handles alpha as real thumbnails do: flattened on white in jpeg, kept in png', async () => {
    const transparent = sources.filter((s) => s.alpha);
    expect(transparent.length).toBeGreaterThanOrEqual(2);
    for (const format of ['jpeg', 'png'] as const) {
      const server = await origin(routes);
      const regen = regenerator(server, { format });
      for (const source of transparent) {
        const i = sources.indexOf(source);
        const real = await regen.get({ key: `real/${i}`, url: server.urlFor(`/img/${i}`) }, 'cover');
        const stand = await regen.get({ key: `gone/${i}`, url: server.urlFor('/gone'), thumbhash: real.thumbhash! }, 'cover');
        expect(stand.outcome).toBe('placeholder');
        const meta = await sharp(stand.body).metadata();
        expect(meta.format).toBe(format);
        expect(meta.hasAlpha, `${format} ${source.name}`).toBe(format === 'png');
        if (format === 'png') {
          // The vignette's transparent corners survive in the hash and in its placeholder.
          const { data } = await sharp(stand.body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
          expect(data[3]).toBeLessThan(128);
        }
        expect(deltaE76(await meanColour(real.body), await meanColour(stand.body))).toBeLessThan(10);
      }
    }
  });

  it('letterboxes `contain` like the real thumbnail: a tall image in a square box has side bars', async () => {
    const server = await origin(routes);
    const regen = regenerator(server, { format: 'png' });
    const tall = sources.findIndex((s) => s.height > s.width * 1.4 && !s.alpha);
    const real = await regen.get({ key: 'real', url: server.urlFor(`/img/${tall}`) }, 'contain');
    const stand = await regen.get({ key: 'gone', url: server.urlFor('/gone'), thumbhash: real.thumbhash! }, 'contain');
    const { data, info } = await sharp(stand.body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number): number => data[(y * info.width + x) * 4 + 3]!;
    expect(alphaAt(0, 60)).toBe(0);
    expect(alphaAt(60, 60)).toBe(255);
  });

  it('the deadline stand-in, when nothing can be derived, is drawn from the hash too', async () => {
    const slow = { ...routes, '/slow': { kind: 'image', body: sources[0]!.body, contentType: 'image/jpeg', delayMs: 1_500 } as OriginRoute };
    const server = await origin(slow);
    const regen = regenerator(server);
    const real = await regen.get({ key: 'real', url: server.urlFor('/img/0') }, 'cover');
    const stand = await regen.get({ key: 'slow', url: server.urlFor('/slow'), thumbhash: real.thumbhash! }, 'cover', { deadlineMs: 50 });
    expect(stand).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.DEADLINE, degraded: true, thumbhash: real.thumbhash, width: 120, height: 90 });
    expect(await isFlat(stand.body)).toBe(false);
    expect(deltaE76(await meanColour(real.body), await meanColour(stand.body))).toBeLessThan(10);
  });

  it('regen.placeholder(variant, { thumbhash }) draws the hash, for every fit', async () => {
    const server = await origin(routes);
    const regen = regenerator(server);
    const real = await regen.get({ key: 'real', url: server.urlFor('/img/3') }, 'cover');
    for (const [name, spec] of Object.entries(VARIANTS)) {
      const thumb = await regen.placeholder(name, { key: 'users/42', thumbhash: real.thumbhash! });
      expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.UNKNOWN_KEY, thumbhash: real.thumbhash, failures: [] });
      await expectValidThumbnail(thumb, spec);
      expect(await isFlat(thumb.body)).toBe(false);
    }
  });
});

describe('invalid ThumbHashes', () => {
  it('truncated, oversized, non-base64, bad header or not a string: the flat placeholder, the reason in failures, nothing thrown or stored', async () => {
    const server = await origin(routes);
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const good = (await regen.get({ key: 'real', url: server.urlFor('/img/0') }, 'cover')).thumbhash!;
    const bytes = Buffer.from(good, 'base64');
    const badHeader = Buffer.from(bytes);
    badHeader[3] = badHeader[3]! & ~7;
    const invalid: Array<[string, unknown]> = [
      ['truncated by 4 characters', good.replace(/=+$/, '').slice(0, -4)],
      ['truncated by one byte', bytes.subarray(0, -1).toString('base64')],
      ['one byte too many', Buffer.concat([bytes, Buffer.from([0])]).toString('base64')],
      ['oversized: 40 KB', good.repeat(1_200)],
      ['non-base64 characters', `${good.slice(0, -4)}!?*~`],
      ['non-ASCII', `é${good.slice(1)}`],
      ['bad padding', `${good.replace(/=+$/, '')}=`],
      ['a header naming no ThumbHash size', badHeader.toString('base64')],
      ['random bytes', Buffer.from('0123456789abcdef0123', 'latin1').toString('base64')],
      ['a number', 12345],
      ['an object', { hash: good }],
      ['an array', [good]],
      ['whitespace only', '    '],
    ];
    const flat = await regen.get({ key: 'plain', url: server.urlFor('/gone') }, 'cover');
    expect(await isFlat(flat.body)).toBe(true);
    for (const [what, thumbhash] of invalid) {
      const record = { key: `bad/${what}`, url: server.urlFor('/gone'), thumbhash } as unknown as { url: string };
      let thumb: Thumbnail | undefined;
      await expect((async () => (thumb = await regen.get(record, 'cover')))(), what).resolves.toBeDefined();
      expect(thumb, what).toMatchObject({ outcome: 'placeholder', degraded: true, reason: ErrorCodes.HTTP_STATUS, width: 120, height: 90 });
      expect(thumb!.thumbhash, what).toBeUndefined();
      expect(Buffer.compare(thumb!.body, flat.body), `${what}: the flat placeholder`).toBe(0);
      const ignored = thumb!.failures?.at(-1);
      expect(ignored, what).toMatchObject({ source: 'thumbhash', code: ErrorCodes.INVALID_THUMBHASH });
      expect(ignored!.message.length, what).toBeLessThan(200);
      expect(thumb!.failures?.[0]?.code, what).toBe(ErrorCodes.HTTP_STATUS);
      const direct = await regen.placeholder('cover', { thumbhash: thumbhash as string });
      expect(direct.failures, what).toMatchObject([{ source: 'thumbhash', code: ErrorCodes.INVALID_THUMBHASH }]);
    }
    for await (const entry of store.list('')) expect(entry.key).toBe('real');
  });

  it('an absent hash (undefined, null, empty) is no failure', async () => {
    const server = await origin(routes);
    const regen = regenerator(server);
    for (const thumbhash of [undefined, null, '']) {
      const thumb = await regen.get({ url: server.urlFor('/gone'), thumbhash } as unknown as { url: string }, 'fill');
      expect(thumb.outcome).toBe('placeholder');
      expect(thumb.failures?.map((f) => f.source)).toEqual([server.urlFor('/gone')]);
    }
  });

  it('a record that is itself invalid still gets its hash drawn (or its bad hash reported)', async () => {
    const server = await origin(routes);
    const regen = regenerator(server);
    const good = (await regen.get({ key: 'real', url: server.urlFor('/img/2') }, 'cover')).thumbhash!;
    const drawn = await regen.get({ key: 'no-url', thumbhash: good } as unknown as { url: string }, 'cover');
    expect(drawn).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.INVALID_RECORD, thumbhash: good });
    expect(await isFlat(drawn.body)).toBe(false);
    const flat = await regen.get({ key: 'no-url', thumbhash: 'nope' } as unknown as { url: string }, 'cover');
    expect(flat.failures?.map((f) => f.code)).toEqual([ErrorCodes.INVALID_RECORD, ErrorCodes.INVALID_THUMBHASH]);
  });
});

describe('rebuild() and rebuildRecord()', () => {
  it('put the source’s ThumbHash on each rendered record’s result (and onRecord); fallbacks have none, a bad hash is reported', async () => {
    const server = await origin(routes);
    const regen = regenerator(server);
    const results: RecordResult[] = [];
    const records = [
      { key: 'a', url: server.urlFor('/img/0') },
      { key: 'b', url: server.urlFor('/gone'), mirrors: [server.urlFor('/img/1')] },
      { key: 'c', url: server.urlFor('/gone'), thumbhash: 'mangled' },
      { key: 'd', url: server.urlFor('/gone') },
    ];
    const report = await regen.rebuild(records, { onRecord: (r) => results.push(r) });
    expect(report.counts).toMatchObject({ regenerated: 1, mirror: 1, placeholder: 2 });
    const byKey = new Map(results.map((r) => [r.key, r]));
    // The same hash get() gives for the same source (a fresh regenerator: this one has it stored, and the store keeps no hashes).
    const direct = await regenerator(server).get({ key: 'a', url: server.urlFor('/img/0') }, 'cover');
    expect(direct.outcome).toBe('regenerated');
    expect(byKey.get('a')!.thumbhash).toBe(direct.thumbhash);
    expect((await regen.get({ key: 'a', url: server.urlFor('/img/0') }, 'cover')).thumbhash).toBeUndefined();
    expect(parseThumbHash(byKey.get('b')!.thumbhash).ok).toBe(true);
    expect(byKey.get('c')!.thumbhash).toBeUndefined();
    expect(byKey.get('c')!.failures?.map((f) => f.code)).toEqual([ErrorCodes.HTTP_STATUS, ErrorCodes.INVALID_THUMBHASH]);
    expect(byKey.get('c')!.reason).toBe(ErrorCodes.HTTP_STATUS);
    expect(byKey.get('d')!.failures?.map((f) => f.code)).toEqual([ErrorCodes.HTTP_STATUS]);
    // The same from rebuildRecord(), what a BullMQ worker returns as its job's result.
    const one = await regen.rebuildRecord({ key: 'e', url: server.urlFor('/img/2') });
    expect(one.outcome).toBe('regenerated');
    expect(parseThumbHash(one.thumbhash).ok).toBe(true);
  });
});
