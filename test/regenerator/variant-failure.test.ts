/**
 * A variant sharp refuses to render fails alone: the source's other variants are stored, the
 * failed one falls back like a missing variant with `RETHUMB_ENCODE_FAILED` (never a
 * permanent decode failure of the source), and a later request or run retries it.
 *
 * libvips refuses for real here: its `embed` operation, which sharp's resize uses, is blocked
 * (`sharp.block`, as the decoder policy blocks loaders), so every variant that needs a resize
 * fails and a variant at the source's own size does not.
 */
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore } from '../../src/index.js';
import { decode, makeImage } from '../helpers/images.js';
import { useHarness } from './support.js';

// `whole` is larger than the source and `inside` never enlarges: it needs no resize.
const VARIANTS = { whole: { width: 4096 }, small: { width: 64, height: 64, fit: 'cover' } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
// Every variant needs a resize, and the decode none (`big` enlarges, so it is decoded at full size).
const resized = useHarness({ small: { width: 64, height: 64, fit: 'cover' }, big: { width: 640, height: 480, fit: 'fill' } });
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 320, 240, { noise: true });
});
afterEach(() => {
  sharp.unblock({ operation: ['VipsEmbed'] });
});

async function refuseResizes(): Promise<void> {
  sharp.block({ operation: ['VipsEmbed'] });
  // The premise: with embed blocked, sharp cannot resize.
  await expect(sharp(jpeg).resize(64, 64).webp().toBuffer()).rejects.toThrow(/blocked/);
}

describe('a variant sharp refuses', () => {
  it('get(): the other variant is stored; the failed one falls back (derived, degraded) with RETHUMB_ENCODE_FAILED', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const record = { key: 'photos/a', url: server.urlFor('/a.jpg') };
    await refuseResizes();

    const small = await regen.get(record, 'small');
    // Derived from the stored `whole` (a WebP decoded at a reduced scale, then cropped: no embed).
    expect({ outcome: small.outcome, reason: small.reason, degraded: small.degraded }).toEqual({ outcome: 'derived', reason: ErrorCodes.ENCODE_FAILED, degraded: true });
    expect(small.failures?.at(-1)).toMatchObject({ source: record.url, code: ErrorCodes.ENCODE_FAILED });
    expect(small.failures?.at(-1)?.message).toMatch(/variant `small`/);
    expect(await decode(small.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    const whole = await regen.get(record, 'whole');
    expect({ outcome: whole.outcome, reason: whole.reason }).toEqual({ outcome: 'memory', reason: undefined });
    expect(await decode(whole.body)).toEqual({ width: 320, height: 240, format: 'webp' });
    expect(await store.head({ key: 'photos/a', variant: 'whole', format: 'webp' })).toMatchObject({ degraded: false });
    expect(await store.head({ key: 'photos/a', variant: 'small', format: 'webp' })).toMatchObject({ degraded: true });

    // Not remembered as a failed source: a run that retries degraded entries replaces it.
    sharp.unblock({ operation: ['VipsEmbed'] });
    const report = await regen.rebuild([record], { retryDegraded: true });
    expect(report.counts).toMatchObject({ regenerated: 1 });
    expect(await store.head({ key: 'photos/a', variant: 'small', format: 'webp' })).toMatchObject({ degraded: false });
    expect(server.hits('/a.jpg')).toBe(2);
  });

  it('rebuild(): the record is reported as a fallback with its reason, the stand-in written degraded', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    await refuseResizes();

    const report = await regen.rebuild([{ key: 'photos/a', url: server.urlFor('/a.jpg') }]);
    expect(report.counts).toMatchObject({ derived: 1, regenerated: 0 });
    expect(report.fallbacks[0]).toMatchObject({ key: 'photos/a', outcome: 'derived', reason: ErrorCodes.ENCODE_FAILED, written: 2 });
    expect(report.fallbacks[0]?.failures?.at(-1)).toMatchObject({ code: ErrorCodes.ENCODE_FAILED });
    expect(await store.head({ key: 'photos/a', variant: 'whole', format: 'webp' })).toMatchObject({ degraded: false });
    expect(await store.head({ key: 'photos/a', variant: 'small', format: 'webp' })).toMatchObject({ degraded: true });
  });

  it('every variant refused: RETHUMB_ENCODE_FAILED, not a decode failure of the source', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = resized.regenerator(server);
    await refuseResizes();
    const thumb = await regen.get({ url: server.urlFor('/a.jpg') }, 'small');
    expect({ outcome: thumb.outcome, reason: thumb.reason }).toEqual({ outcome: 'placeholder', reason: ErrorCodes.ENCODE_FAILED });
    expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.ENCODE_FAILED });
    expect(await decode(thumb.body)).toMatchObject({ width: 64, height: 64 });
  });
});
