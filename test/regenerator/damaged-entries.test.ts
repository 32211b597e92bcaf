/**
 * What the regenerator does with a damaged stored entry beyond "regenerate and overwrite" (the
 * store integrity contract covers that for every store): never derive from one, delete one that
 * nothing could replace (after a confirming read), leave it to the regeneration under a
 * deadline, heal damaged entries in one `rebuild({ verify })` pass, and `verifyStored: false`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore, type Store, type StoreErrorEvent, type StoredThumbnail, type StoreEntryAddress } from '../../src/index.js';
import { verifyImage } from '../../src/integrity/verify-image.js';
import { isPlaceholder } from '../../src/testing/index.js';
import { damage } from '../helpers/damage.js';
import { decode, makeImage, truncate } from '../helpers/images.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 32, height: 32, fit: 'cover' }, large: { width: 120 } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 240, 160, { noise: true });
});

const at = (key: string, variant: string): StoreEntryAddress => ({ key, variant, format: 'webp' });

/** A store seeded with real thumbnails of `keys` (rendered from `/a.jpg`), then the origin's counts reset. */
async function seeded(keys: string[], server: Awaited<ReturnType<typeof origin>>): Promise<MemoryStore> {
  const store = new MemoryStore();
  const seed = regenerator(server, { store });
  for (const key of keys) await seed.get({ key, url: server.urlFor('/a.jpg') }, 'small');
  await seed.close();
  server.resetCounts();
  return store;
}

async function damageEntry(store: Store, address: StoreEntryAddress, how: (body: Buffer) => Buffer = (b) => truncate(b, 0.5)): Promise<void> {
  const stored = await store.get(address);
  await store.put(address, { body: how(stored!.body), degraded: stored!.degraded });
}

function corruptEvents(events: StoreErrorEvent[]): Array<[string | undefined, string | undefined]> {
  return events.filter((e) => (e.error as { code?: string }).code === ErrorCodes.STORE_CORRUPT).map((e) => [e.variant, e.damage]);
}

describe('damaged stored entries', () => {
  it('every source failed: never derives from a damaged variant; the damaged entry is deleted and a placeholder served', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = await seeded(['k'], server);
    await damageEntry(store, at('k', 'small'));
    await damageEntry(store, at('k', 'large'), (b) => b.fill(0, b.length >> 1));
    const regen = regenerator(server, { store, memoryCacheBytes: 0 });
    const events: StoreErrorEvent[] = [];
    regen.on('storeError', (e) => events.push(e));

    // The origin is gone: only the (damaged) large variant could have stood in.
    const thumb = await regen.get({ key: 'k', url: server.urlFor('/gone.jpg') }, 'small');
    expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS, width: 32, height: 32 });
    expect(await isPlaceholder(thumb)).toBe(true);
    // A zeroed tail takes the seal chunk at the end of the WebP with it: a chunk of zeros is no chunk.
    expect(corruptEvents(events)).toEqual([
      ['small', 'truncated'],
      ['large', 'structure'],
    ]);
    // The damaged small entry is gone (web servers would serve it as a broken image); large, not asked for, stays.
    expect(await store.head(at('k', 'small'))).toBeUndefined();
    expect(await store.head(at('k', 'large'))).toBeDefined();
    expect(regen.stats()).toMatchObject({ corruptEntries: 2, storeErrors: 2 });
  });

  it('every source failed: a whole larger variant stands in for a damaged one (derived, degraded, written over it)', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = await seeded(['k'], server);
    await damageEntry(store, at('k', 'small'));
    const regen = regenerator(server, { store, memoryCacheBytes: 0 });
    const thumb = await regen.get({ key: 'k', url: server.urlFor('/gone.jpg') }, 'small');
    expect(thumb).toMatchObject({ outcome: 'derived', degraded: true, width: 32, height: 32 });
    expect(await decode(thumb.body)).toEqual({ width: 32, height: 32, format: 'webp' });
    const healed = await store.get(at('k', 'small'));
    expect(healed?.degraded).toBe(true);
    expect(verifyImage(healed!.body, 'webp')).toMatchObject({ ok: true, sealed: true });
  });

  it('a read that was damaged once but whole on the confirming read is not deleted', async () => {
    const server = await origin({});
    const inner = new MemoryStore();
    const body = await makeImage('webp', 32, 32);
    await inner.put(at('k', 'small'), { body, degraded: false });
    // A store whose first read of an entry comes back cut short (a glitch between store and process).
    let reads = 0;
    const glitchy: Store = {
      get: async (address, options) => {
        const got = await inner.get(address, options);
        reads += 1;
        return got && reads === 1 ? ({ body: truncate(got.body, 0.5), degraded: got.degraded } satisfies StoredThumbnail) : got;
      },
      head: (address, options) => inner.head(address, options),
      put: (address, thumbnail, options) => inner.put(address, thumbnail, options),
      delete: (address, options) => inner.delete(address, options),
      list: (prefix, options) => inner.list(prefix, options),
    };
    const regen = regenerator(server, { store: glitchy, memoryCacheBytes: 0, variants: { small: VARIANTS.small } });
    const thumb = await regen.get({ key: 'k', url: server.urlFor('/gone.jpg') }, 'small');
    expect(thumb.outcome).toBe('placeholder');
    expect(regen.stats().corruptEntries).toBe(1);
    expect((await inner.get(at('k', 'small')))?.body.equals(body)).toBe(true);
  });

  it('under a deadline, the stand-in is served and the damaged entry is left to the regeneration, which overwrites it', async () => {
    const server = await origin({ '/slow.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 300 }, '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = await seeded(['k'], server);
    await damageEntry(store, at('k', 'small'));
    await damageEntry(store, at('k', 'large'));
    const regen = regenerator(server, { store, memoryCacheBytes: 0 });
    const standIn = await regen.get({ key: 'k', url: server.urlFor('/slow.jpg') }, 'small', { deadlineMs: 20 });
    expect(standIn).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.DEADLINE });
    expect(await store.head(at('k', 'small'))).toBeDefined();
    // The regeneration lands: a whole, sealed entry replaces the damaged one.
    await expect.poll(async () => verifyImage((await store.get(at('k', 'small')))?.body ?? Buffer.alloc(0), 'webp').ok, { timeout: 10_000 }).toBe(true);
    expect(server.hits('/slow.jpg')).toBe(1);
  });

  it('rebuild({ verify }) treats damaged entries as missing in the same pass; without it, they look stored', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const keys = ['r/0', 'r/1', 'r/2', 'r/3'];
    const store = await seeded(keys, server);
    await damageEntry(store, at('r/1', 'small'));
    await damageEntry(store, at('r/3', 'large'), (b) => {
      b[b.length >> 1] = b[b.length >> 1]! ^ 0xff;
      return b;
    });
    const records = keys.map((key) => ({ key, url: server.urlFor('/a.jpg') }));

    const plain = regenerator(server, { store });
    expect((await plain.rebuild(records)).counts).toMatchObject({ stored: 4, regenerated: 0 });
    expect(server.hits()).toBe(0);

    const verifying = regenerator(server, { store });
    const events: StoreErrorEvent[] = [];
    verifying.on('storeError', (e) => events.push(e));
    const report = await verifying.rebuild(records, { verify: true });
    expect(report.counts).toMatchObject({ stored: 2, regenerated: 2 });
    expect(server.hits()).toBe(2);
    expect(corruptEvents(events)).toEqual([
      ['small', 'truncated'],
      ['large', 'checksum'],
    ]);
    for (const key of keys) for (const variant of ['small', 'large']) expect(verifyImage((await store.get(at(key, variant)))!.body, 'webp')).toMatchObject({ ok: true, sealed: true });

    // A predicate verifies only the records it picks.
    await damageEntry(store, at('r/0', 'small'));
    await damageEntry(store, at('r/2', 'small'));
    server.resetCounts();
    const picky = regenerator(server, { store });
    expect((await picky.rebuild(records, { verify: (record) => record.key === 'r/2' })).counts).toMatchObject({ stored: 3, regenerated: 1 });
    expect(server.hits()).toBe(1);
  });

  it('rebuild({ verify }) with every source gone: damaged entries are deleted, the record falls back', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = await seeded(['k'], server);
    await damageEntry(store, at('k', 'small'));
    await damageEntry(store, at('k', 'large'));
    const regen = regenerator(server, { store });
    const report = await regen.rebuild([{ key: 'k', url: server.urlFor('/gone.jpg') }], { verify: true });
    expect(report.counts).toMatchObject({ placeholder: 1 });
    expect(regen.stats().corruptEntries).toBe(2);
    expect(await store.head(at('k', 'small'))).toBeUndefined();
    expect(await store.head(at('k', 'large'))).toBeUndefined();
  });

  it('verifyStored: false reads only the header, as before seals (a flipped byte in the image data is then served)', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = await seeded(['k'], server);
    await damageEntry(store, at('k', 'small'), (b) => damage('flipped byte', b, 'webp', b));
    const trusting = regenerator(server, { store, memoryCacheBytes: 0, verifyStored: false });
    expect((await trusting.get({ key: 'k', url: server.urlFor('/a.jpg') }, 'small')).outcome).toBe('stored');
    const checking = regenerator(server, { store, memoryCacheBytes: 0 });
    expect((await checking.get({ key: 'k', url: server.urlFor('/a.jpg') }, 'small')).outcome).toBe('regenerated');
  });
});
