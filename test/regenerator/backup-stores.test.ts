/**
 * Backup stores (a restored old copy of the thumbnail tree): consulted after the primary store
 * misses and before fetching; a hit is served as `mirror` and repaired into the primary store.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore, type Store } from '../../src/index.js';
import { decode, makeImage } from '../helpers/images.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 32, height: 32, fit: 'cover' }, large: { width: 120 } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 240, 160);
});

/** A backup holding real thumbnails of `keys`, made by a regenerator that then forgets the origin. */
async function seededBackup(url: (key: string) => string, keys: string[], server: Parameters<typeof regenerator>[0]): Promise<MemoryStore> {
  const backup = new MemoryStore();
  const seed = regenerator(server, { store: backup });
  for (const key of keys) await seed.get({ key, url: url(key) }, 'small');
  await seed.close();
  server.resetCounts();
  return backup;
}

describe('backup stores', () => {
  it('get(): a backup hit is served as mirror without a fetch and written back to the primary store', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const backup = await seededBackup(() => server.urlFor('/a.jpg'), ['a'], server);
    const primary = new MemoryStore();
    const regen = regenerator(server, { store: primary, backup: [new MemoryStore(), backup] });

    const thumb = await regen.get({ key: 'a', url: server.urlFor('/a.jpg') }, 'small');
    expect(thumb).toMatchObject({ outcome: 'mirror', degraded: false, width: 32, height: 32 });
    expect(await decode(thumb.body)).toEqual({ width: 32, height: 32, format: 'webp' });
    expect(server.hits()).toBe(0);
    expect(await primary.head({ key: 'a', variant: 'small', format: 'webp' })).toMatchObject({ degraded: false });
    expect(regen.stats().backupHits).toBe(1);

    // Repaired: the next process finds it in the primary store.
    const later = regenerator(server, { store: primary, backup: [backup] });
    expect((await later.get({ key: 'a', url: server.urlFor('/a.jpg') }, 'small')).outcome).toBe('stored');
    expect(later.stats().backupHits).toBe(0);
  });

  it('get(): a backup miss or a corrupt backup entry falls through to the origin', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const corrupt = new MemoryStore();
    await corrupt.put({ key: 'a', variant: 'small', format: 'webp' }, { body: Buffer.from('not an image'), degraded: false });
    const regen = regenerator(server, { backup: [corrupt, new MemoryStore()] });
    const thumb = await regen.get({ key: 'a', url: server.urlFor('/a.jpg') }, 'small');
    expect(thumb.outcome).toBe('regenerated');
    expect(server.hits()).toBe(1);
  });

  it('rebuild(): a record whose missing variants are all in a backup is copied, not fetched', async () => {
    const server = await origin({
      '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
      '/b.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
    });
    // The backup holds both variants of `a` (one decode renders every variant) but nothing of `b`.
    const backup = await seededBackup((key) => server.urlFor(`/${key}.jpg`), ['a'], server);
    const primary = new MemoryStore();
    const regen = regenerator(server, { store: primary, backup: [backup] });

    const results = new Map<string, string>();
    const report = await regen.rebuild(
      [
        { key: 'a', url: server.urlFor('/a.jpg') },
        { key: 'b', url: server.urlFor('/b.jpg') },
      ],
      { onRecord: (r) => results.set(r.key, r.outcome) },
    );
    expect(Object.fromEntries(results)).toEqual({ a: 'mirror', b: 'regenerated' });
    expect(report.counts).toMatchObject({ mirror: 1, regenerated: 1 });
    expect(server.hits('/a.jpg')).toBe(0);
    expect(server.hits('/b.jpg')).toBe(1);
    for (const variant of ['small', 'large']) expect(await primary.head({ key: 'a', variant, format: 'webp' })).toMatchObject({ degraded: false });
  });

  it('rejects a backup that is not a Store', () => {
    const server = { host: '127.0.0.1:1' } as Parameters<typeof regenerator>[0];
    expect(() => regenerator(server, { backup: {} as unknown as Store[] })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'backup' }));
    expect(() => regenerator(server, { backup: [new MemoryStore(), { get() {} } as unknown as Store] })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'backup[1]' }),
    );
  });
});
