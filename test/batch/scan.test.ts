import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanManifest, type ScanRecordResult } from '../../src/batch/scan.js';
import { FileStore } from '../../src/storage/file-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import { tempRoot } from '../regenerator/support.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('scan'));
});
afterEach(() => cleanup());

describe('scanManifest', () => {
  it('sorts records into present, degraded, missing and invalid without fetching', async () => {
    const store = new FileStore(root, { fsync: false });
    const body = Buffer.from('thumbnail');
    await store.put({ key: 'full', variant: 'small', format: 'webp' }, { body, degraded: false });
    await store.put({ key: 'full', variant: 'large', format: 'webp' }, { body, degraded: false });
    await store.put({ key: 'half', variant: 'large', format: 'webp' }, { body, degraded: false });
    await store.put({ key: 'stand-in', variant: 'small', format: 'webp' }, { body, degraded: true });
    await store.put({ key: 'stand-in', variant: 'large', format: 'webp' }, { body, degraded: false });
    // Another format does not count.
    await store.put({ key: 'png-only', variant: 'small', format: 'png' }, { body, degraded: false });
    const manifest = ['full', 'half', 'stand-in', 'png-only', 'none', '../escape'].map((key) => JSON.stringify({ key, url: 'http://203.0.113.1/never-fetched.jpg' }));
    manifest.splice(2, 0, 'garbage');
    const seen: ScanRecordResult[] = [];
    const report = await scanManifest({
      manifest: Readable.from([Buffer.from(manifest.join('\n'))]),
      store,
      variants: ['small', 'large'],
      format: 'webp',
      concurrency: 3,
      onRecord: (r) => void seen.push(r),
    });
    expect(report).toMatchObject({
      total: 6,
      counts: { present: 1, degraded: 1, missing: 3, invalid: 1 },
      variantsMissing: 1 + 2 + 2,
      variantsDegraded: 1,
      malformedLines: 1,
    });
    const byKey = Object.fromEntries(seen.map((r) => [r.key, r]));
    expect(byKey.half).toMatchObject({ status: 'missing', missing: ['small'], degraded: [] });
    expect(byKey['stand-in']).toMatchObject({ status: 'degraded', missing: [], degraded: ['small'] });
    expect(byKey['../escape']).toMatchObject({ status: 'invalid' });
    expect(report.recordsPerSecond).toBeGreaterThan(0);
  });

  it('reports records in manifest order even when later checks finish first', async () => {
    const inner = new MemoryStore();
    // Earlier keys answer later: k0 after 60 ms, k1 after 45 ms … k4 at once.
    const store: Store = {
      get: (address, options) => inner.get(address, options),
      put: (address, thumbnail, options) => inner.put(address, thumbnail, options),
      delete: (address, options) => inner.delete(address, options),
      list: (prefix, options) => inner.list(prefix, options),
      head: async (address, options) => {
        await new Promise((resolve) => setTimeout(resolve, (4 - Number(address.key.slice(1))) * 15));
        return inner.head(address, options);
      },
    };
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    const seen: string[] = [];
    const report = await scanManifest({
      manifest: Readable.from([Buffer.from(keys.map((key) => JSON.stringify({ key, url: 'http://203.0.113.1/x.jpg' })).join('\n'))]),
      store,
      variants: ['small'],
      concurrency: 5,
      onRecord: (r) => void seen.push(r.key),
    });
    expect(report.counts.missing).toBe(5);
    expect(seen).toEqual(keys);
  });
});
