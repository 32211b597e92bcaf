import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore, MemoryStore } from '../../src/index.js';
import type { OutcomeEvent } from '../../src/regenerator/events.js';
import { decode, makeImage } from '../helpers/images.js';
import { until, useHarness } from './support.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' }, large: { width: 240 } } as const;
let jpeg: Buffer;
const { origin, regenerator, tempRoot } = useHarness(VARIANTS);

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 480, 320, { noise: true });
});

describe('get()', () => {
  it('ten concurrent gets of one uncached record cause one origin request and one decode for both variants', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 100 } });
    const regen = regenerator(server);
    const record = { key: 'photos/a', url: server.urlFor('/a.jpg') };
    const thumbs = await Promise.all(Array.from({ length: 10 }, () => regen.get(record, 'small')));

    expect(server.hits('/a.jpg')).toBe(1);
    expect(regen.stats().decodes).toBe(1);
    for (const thumb of thumbs) {
      expect(thumb.outcome).toBe('regenerated');
      expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    }
    // The other variant came from the same decode and is served from memory.
    const large = await regen.get(record, 'large');
    expect(large.outcome).toBe('memory');
    expect(await decode(large.body)).toEqual({ width: 240, height: 160, format: 'webp' });
    expect(server.hits()).toBe(1);
    expect(regen.stats().decodes).toBe(1);
  });

  it('answers from memory, then from the store after a restart, without fetching again', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const root = await tempRoot('get-tiers');
    const record = { url: server.urlFor('/a.jpg') };
    const first = regenerator(server, { store: new FileStore(root) });
    expect((await first.get(record, 'small')).outcome).toBe('regenerated');
    expect((await first.get(record, 'small')).outcome).toBe('memory');
    await first.close();

    const second = regenerator(server, { store: new FileStore(root) });
    const stored = await second.get(record, 'large');
    expect(stored).toMatchObject({ outcome: 'stored', degraded: false, width: 240, height: 160, contentType: 'image/webp' });
    expect(await decode(stored.body)).toEqual({ width: 240, height: 160, format: 'webp' });
    expect(server.hits()).toBe(1);
  });

  it('falls back to a mirror, in order, and says why', async () => {
    const server = await origin({
      '/gone.jpg': { kind: 'status', status: 404 },
      '/broken.jpg': { kind: 'status', status: 500 },
      '/mirror.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
    });
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const record = { key: 'm', url: server.urlFor('/gone.jpg'), mirrors: [server.urlFor('/broken.jpg'), server.urlFor('/mirror.jpg')] };
    const thumb = await regen.get(record, 'small');

    expect(thumb).toMatchObject({ outcome: 'mirror', reason: ErrorCodes.HTTP_STATUS, degraded: false });
    expect(thumb.failures?.map((f) => f.status)).toEqual([404, 500]);
    expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(await store.head({ key: 'm', variant: 'small', format: 'webp' })).toMatchObject({ degraded: false });
  });

  it('derives a missing variant from the largest surviving one, marks it degraded, and a rebuild replaces it', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = new MemoryStore();
    const record = { key: 'print/1', url: server.urlFor('/a.jpg') };
    const seed = regenerator(server, { store });
    await seed.get(record, 'large');
    await seed.close();
    await store.delete({ key: 'print/1', variant: 'small', format: 'webp' });

    // The original is lost; the large preview survived.
    server.route('/a.jpg', { kind: 'status', status: 404 });
    const regen = regenerator(server, { store });
    const thumb = await regen.get(record, 'small');
    expect(thumb).toMatchObject({ outcome: 'derived', degraded: true, reason: ErrorCodes.HTTP_STATUS });
    expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(await store.head({ key: 'print/1', variant: 'small', format: 'webp' })).toMatchObject({ degraded: true });

    // The original comes back: a rebuild that retries degraded entries replaces the stand-in.
    server.route('/a.jpg', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
    const report = await regen.rebuild([record], { retryDegraded: true });
    expect(report.counts.regenerated).toBe(1);
    expect(await store.head({ key: 'print/1', variant: 'small', format: 'webp' })).toMatchObject({ degraded: false });
  });

  it('shapes a placeholder with the record hints and tints it with its colour', async () => {
    const server = await origin({ '/gone.jpg': { kind: 'status', status: 410 } });
    const regen = regenerator(server);
    const thumb = await regen.get({ url: server.urlFor('/gone.jpg'), width: 1600, height: 900, color: '#ff0000' }, 'large');
    expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS, width: 240, height: 135 });
    expect(await decode(thumb.body)).toEqual({ width: 240, height: 135, format: 'webp' });
    const { channels } = await (await import('sharp')).default(thumb.body).stats();
    expect(channels[0]!.mean).toBeGreaterThan(200);
    expect(channels[1]!.mean).toBeLessThan(40);
  });

  it('answers bad records with a placeholder and never fetches for them', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    const noUrl = await regen.get({ key: 'x' } as never, 'small');
    expect(noUrl).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.INVALID_RECORD });
    const escaping = await regen.get({ key: '../../etc/passwd', url: server.urlFor('/a.jpg') }, 'small');
    expect(escaping).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.INVALID_KEY });
    const notAnObject = await regen.get(null as never, 'small');
    expect(notAnObject).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.INVALID_RECORD });
    for (const thumb of [noUrl, escaping, notAnObject]) expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(server.hits()).toBe(0);
  });

  it('rejects programmer errors with typed codes', async () => {
    const server = await origin({});
    const regen = regenerator(server);
    await expect(regen.get({ url: server.urlFor('/a.jpg') }, 'huge')).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_VARIANT });
    await expect(regen.get({ url: server.urlFor('/a.jpg') }, 'small', { deadlineMs: -1 })).rejects.toMatchObject({ code: ErrorCodes.CONFIG });
    await regen.close();
    await expect(regen.get({ url: server.urlFor('/a.jpg') }, 'small')).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    await expect(regen.rebuild([])).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
  });

  it("one caller's abort does not cancel the fetch others wait for", async () => {
    const server = await origin({ '/slow.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 300 } });
    const regen = regenerator(server);
    const record = { url: server.urlFor('/slow.jpg') };
    const controller = new AbortController();
    const impatient = regen.get(record, 'small', { signal: controller.signal });
    const patient = regen.get(record, 'small');
    setTimeout(() => controller.abort(new Error('gave up')), 50);
    await expect(impatient).rejects.toThrow('gave up');
    expect((await patient).outcome).toBe('regenerated');
    expect(server.hits()).toBe(1);
  });

  it('under a deadline, answers with a stand-in at once and lands the real thumbnail later', async () => {
    const server = await origin({ '/slow.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 1_500 } });
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const record = { key: 'slow', url: server.urlFor('/slow.jpg') };

    const started = performance.now();
    const standIn = await regen.get(record, 'small', { deadlineMs: 100 });
    // Loose bound: far below the origin's 1.5 s, so not a timing-sensitive assertion.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(standIn).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.DEADLINE, degraded: true });
    expect(await decode(standIn.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(await store.head({ key: 'slow', variant: 'small', format: 'webp' })).toBeUndefined();

    // The regeneration finished in the background into the store and the memory cache.
    expect(await until(async () => (await store.head({ key: 'slow', variant: 'small', format: 'webp' })) !== undefined)).toBe(true);
    const real = await regen.get(record, 'small', { deadlineMs: 100 });
    expect(real).toMatchObject({ outcome: 'memory', degraded: false });
    // A fresh process (no memory cache) reads the real thumbnail from the store.
    const later = regenerator(server, { store });
    expect(await later.get(record, 'small', { deadlineMs: 100 })).toMatchObject({ outcome: 'stored', degraded: false });
    expect(server.hits()).toBe(1);
  });

  it('close() cancels a background completion instead of waiting for it', async () => {
    const server = await origin({ '/stall.jpg': { kind: 'stall' } });
    const regen = regenerator(server, { headersTimeoutMs: 60_000, timeoutMs: 60_000 });
    const standIn = await regen.get({ url: server.urlFor('/stall.jpg') }, 'small', { deadlineMs: 20 });
    expect(standIn.reason).toBe(ErrorCodes.DEADLINE);
    expect(regen.stats().regenerating).toBe(1);
    const started = performance.now();
    await regen.close();
    // Loose bound: the origin would stall for a minute.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(regen.stats().regenerating).toBe(0);
  });

  it('under a deadline, prefers a stand-in derived from a surviving variant, without storing it', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = new MemoryStore();
    const record = { key: 'd', url: server.urlFor('/a.jpg') };
    const seed = regenerator(server, { store });
    await seed.get(record, 'large');
    await seed.close();
    await store.delete({ key: 'd', variant: 'small', format: 'webp' });
    server.route('/a.jpg', { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 1_000 });

    const regen = regenerator(server, { store });
    const standIn = await regen.get(record, 'small', { deadlineMs: 50 });
    expect(standIn).toMatchObject({ outcome: 'derived', reason: ErrorCodes.DEADLINE, degraded: true });
    expect(await decode(standIn.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    // The real one lands later, never overwritten by the stand-in.
    expect(await until(async () => (await store.head({ key: 'd', variant: 'small', format: 'webp' }))?.degraded === false)).toBe(true);
  });

  it('emits an outcome event per answer, and a throwing listener breaks nothing', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    const events: OutcomeEvent[] = [];
    regen.on('outcome', (event) => events.push(event));
    regen.on('outcome', () => {
      throw new Error('observer bug');
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await regen.get({ key: 'e', url: server.urlFor('/a.jpg') }, 'small');
      await regen.get({ key: 'e', url: server.urlFor('/a.jpg') }, 'small');
      await until(() => warnings.length >= 2, 1_000);
    } finally {
      process.off('warning', onWarning);
    }
    expect(events.map((e) => [e.key, e.variant, e.outcome, e.via])).toEqual([
      ['e', 'small', 'regenerated', 'get'],
      ['e', 'small', 'memory', 'get'],
    ]);
    expect(warnings.some((w) => w.includes('observer bug'))).toBe(true);
  });
});

describe('placeholder()', () => {
  it('renders the variant box from hints, with the given reason, stores nothing and fetches nothing', async () => {
    const server = await origin({});
    const store = new MemoryStore();
    const regen = regenerator(server, { store });
    const events: OutcomeEvent[] = [];
    regen.on('outcome', (event: OutcomeEvent) => events.push(event));

    const unknown = await regen.placeholder('large', { key: 'users/404', width: 400, height: 100, color: '#336699' });
    expect(unknown).toMatchObject({ outcome: 'placeholder', degraded: true, key: 'users/404', variant: 'large', reason: ErrorCodes.UNKNOWN_KEY });
    expect(await decode(unknown.body)).toEqual({ width: 240, height: 60, format: 'webp' });
    const bad = await regen.placeholder('small', { reason: ErrorCodes.INVALID_KEY });
    expect(bad.reason).toBe(ErrorCodes.INVALID_KEY);
    expect(await decode(bad.body)).toEqual({ width: 64, height: 64, format: 'webp' });

    await expect(regen.placeholder('huge')).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_VARIANT });
    expect(await store.get({ key: 'users/404', variant: 'large', format: 'webp' })).toBeUndefined();
    expect(events).toEqual([]);
    expect(server.hits()).toBe(0);
  });
});
