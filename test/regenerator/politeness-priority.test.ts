/**
 * The request path stays steady while a rebuild runs: `get()` of a cached record does not wait
 * for batch work, `get()` of an uncached record (or of one a rebuild already queued) goes before
 * queued batch downloads. (A deadline answering with a stand-in while the origin is slow, then
 * the stored thumbnail: get.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { makeImage } from '../helpers/images.js';
import { countedImage, newTraffic, numberedRoutes, type Traffic } from './politeness-support.js';
import { until, useHarness } from './support.js';

const { origin, regenerator } = useHarness({ small: { width: 32, height: 32, fit: 'cover' } });
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 64, 48);
});

/** One download at a time: the order of arrivals at the origin is the scheduler's order. */
const SERIAL = { concurrency: 1, renderConcurrency: 1, perHost: { concurrency: 1 } } as const;

async function batchOrigin(traffic: Traffic, delayMs: number) {
  return origin({
    ...numberedRoutes('batch', 20, () => countedImage(traffic, jpeg, delayMs)),
    '/urgent.jpg': countedImage(traffic, jpeg, 5),
    '/cached.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
  });
}

describe('politeness: get() during a rebuild', () => {
  it('a rebuild at full concurrency does not delay a get() of a cached record', async () => {
    const traffic = newTraffic();
    const server = await batchOrigin(traffic, 400);
    const store = new MemoryStore();
    const seed = regenerator(server, { store });
    await seed.get({ key: 'cached', url: server.urlFor('/cached.jpg') }, 'small');
    await seed.close();

    const regen = regenerator(server, { store, concurrency: 3, perHost: { concurrency: 3, initialConcurrency: 3 } });
    const records = Array.from({ length: 20 }, (_, i) => ({ key: `b${i}`, url: server.urlFor(`/batch-${i}.jpg`) }));
    let rebuilt = false;
    const rebuild = regen.rebuild(records).then((report) => {
      rebuilt = true;
      return report;
    });
    expect(await until(() => traffic.inFlight === 3, 3_000)).toBe(true);
    const completedBefore = traffic.completions.length;

    const thumb = await regen.get({ key: 'cached', url: server.urlFor('/cached.jpg') }, 'small');

    expect(thumb.outcome).toBe('stored');
    // Answered while the batch downloads in flight were still in flight.
    expect(traffic.completions.length).toBe(completedBefore);
    expect(rebuilt).toBe(false);
    expect((await rebuild).counts.regenerated).toBe(20);
  });

  it('a get() of an uncached record is served before queued batch work', async () => {
    const { traffic, server, regen, rebuild } = await startSerialRebuild();

    const thumb = await regen.get({ key: 'urgent', url: server.urlFor('/urgent.jpg') }, 'small');

    expect(thumb.outcome).toBe('regenerated');
    // The batch download in flight finishes; the next request is the get()'s, ahead of the queued batch.
    expect(traffic.arrivals.map((a) => a.path).slice(0, 2)).toEqual(['/batch-0.jpg', '/urgent.jpg']);
    expect((await rebuild).counts.regenerated).toBe(6);
  });

  it('a get() joining a record the rebuild already queued raises its download ahead of batch work', async () => {
    const { traffic, server, regen, records, rebuild } = await startSerialRebuild();

    const thumb = await regen.get(records[2]!, 'small');

    expect(thumb.outcome).toBe('regenerated');
    expect(traffic.arrivals.map((a) => a.path).slice(0, 3)).toEqual(['/batch-0.jpg', '/batch-2.jpg', '/batch-1.jpg']);
    const report = await rebuild;
    expect(report.counts.regenerated).toBe(6);
    // One fetch for the record the get() and the rebuild shared.
    expect(server.hits('/batch-2.jpg')).toBe(1);
  });
});

/**
 * A rebuild of six records, one download at a time (each takes 250 ms: ample margin for a get()
 * to be queued while batch-0 is in flight); resolves once batch-0 is downloading and batch-1
 * and batch-2 are queued in the scheduler.
 */
async function startSerialRebuild() {
  const traffic = newTraffic();
  const server = await batchOrigin(traffic, 250);
  const regen = regenerator(server, SERIAL);
  const records = Array.from({ length: 6 }, (_, i) => ({ key: `b${i}`, url: server.urlFor(`/batch-${i}.jpg`) }));
  const rebuild = regen.rebuild(records);
  expect(await until(() => traffic.arrivals.length === 1 && regen.stats().downloadsQueued === 2, 3_000)).toBe(true);
  return { traffic, server, regen, records, rebuild };
}
