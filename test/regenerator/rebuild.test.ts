import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore, MemoryStore, RebuildTally, type RecordResult, type ThumbRecord } from '../../src/index.js';
import type { OriginRoute, TestOrigin } from '../../src/testing/test-origin.js';
import { decode, makeImage } from '../helpers/images.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 48, height: 48, fit: 'cover' }, large: { width: 160 } } as const;
let jpeg: Buffer;
const { origin, regenerator, tempRoot } = useHarness(VARIANTS);

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 320, 240, { noise: true });
});

/** 30 records: every third one's source is gone. */
async function manifestOrigin(): Promise<{ server: TestOrigin; records: ThumbRecord[] }> {
  const routes: Record<string, OriginRoute> = {};
  const records: ThumbRecord[] = [];
  for (let i = 0; i < 30; i += 1) {
    routes[`/${i}.jpg`] = i % 3 === 0 ? { kind: 'status', status: 404 } : { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 10 };
    records.push({ key: `r/${i}`, url: `/${i}.jpg` });
  }
  const server = await origin(routes);
  return { server, records: records.map((r) => ({ ...r, url: server.urlFor(r.url) })) };
}

describe('rebuild()', () => {
  it('rebuilds a manifest, reports fallbacks with reasons, and stores only real thumbnails', async () => {
    const { server, records } = await manifestOrigin();
    const root = await tempRoot('rebuild');
    const store = new FileStore(root);
    const regen = regenerator(server, { store, concurrency: 4 });
    const seen: RecordResult[] = [];
    const progress: number[] = [];
    const report = await regen.rebuild(records, { onRecord: (r) => seen.push(r), onProgress: (p) => progress.push(p.done) });

    expect(report.total).toBe(30);
    expect(report.counts).toEqual({ stored: 0, regenerated: 20, mirror: 0, derived: 0, placeholder: 10 });
    expect(report.aborted).toBe(false);
    expect(report.fallbacks.map((f) => f.key).sort()).toEqual(records.filter((_, i) => i % 3 === 0).map((r) => r.key).sort());
    for (const fallback of report.fallbacks) {
      expect(fallback).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS, written: 0 });
      expect(fallback.failures?.[0]?.status).toBe(404);
    }
    expect(seen).toHaveLength(30);
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Polite: never more than `concurrency` requests at the origin at once.
    expect(server.maxInFlight).toBeLessThanOrEqual(4);
    expect(report.bytesDownloaded).toBe(20 * jpeg.length);

    const entries = [];
    for await (const entry of store.list()) entries.push(entry);
    expect(entries).toHaveLength(40);
    for (const entry of entries) {
      expect(entry.degraded).toBe(false);
      const { width } = await decode((await store.get(entry))!.body);
      expect(width).toBe(entry.variant === 'small' ? 48 : 160);
    }
  });

  it('with onlyMissing (the default) skips what is stored and retries only the rest', async () => {
    const { server, records } = await manifestOrigin();
    const regen = regenerator(server);
    await regen.rebuild(records);
    const hitsAfterFirst = server.hits();
    expect(hitsAfterFirst).toBe(30);

    const again = await regen.rebuild(records);
    expect(again.counts).toEqual({ stored: 20, regenerated: 0, mirror: 0, derived: 0, placeholder: 10 });
    // Only the ten missing sources were asked again.
    expect(server.hits() - hitsAfterFirst).toBe(10);

    const everything = await regen.rebuild(records, { onlyMissing: false });
    expect(everything.counts.regenerated).toBe(20);
    expect(server.hits() - hitsAfterFirst).toBe(40);
  });

  it('streams an async iterable lazily and reports bad records without stopping', async () => {
    const { server, records } = await manifestOrigin();
    const regen = regenerator(server, { concurrency: 2, renderConcurrency: 1 });
    let pulled = 0;
    let maxAhead = 0;
    let finished = 0;
    async function* stream(): AsyncGenerator<ThumbRecord> {
      for (const record of records.slice(0, 12)) {
        pulled += 1;
        maxAhead = Math.max(maxAhead, pulled - finished);
        yield record;
      }
      yield { key: 'no-url' } as never;
      yield { key: '/etc/passwd', url: server.urlFor('/1.jpg') };
    }
    const report = await regen.rebuild(stream(), { onRecord: () => void (finished += 1) });
    expect(report.total).toBe(14);
    // The window is concurrency + 2 × renderConcurrency = 4 records in progress; the input is never read far ahead.
    expect(maxAhead).toBeLessThanOrEqual(5);
    const reasons = report.fallbacks.map((f) => f.reason);
    expect(reasons).toContain(ErrorCodes.INVALID_RECORD);
    expect(reasons).toContain(ErrorCodes.INVALID_KEY);
  });

  it('derives missing variants from survivors when the source is gone, and keeps stored ones', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const store = new MemoryStore();
    const record = { key: 'keep', url: server.urlFor('/a.jpg') };
    await regenerator(server, { store }).rebuild([record]);
    await store.delete({ key: 'keep', variant: 'small', format: 'webp' });
    server.route('/a.jpg', { kind: 'status', status: 404 });

    const regen = regenerator(server, { store });
    const report = await regen.rebuild([record]);
    expect(report.counts.derived).toBe(1);
    expect(report.fallbacks[0]).toMatchObject({ key: 'keep', outcome: 'derived', reason: ErrorCodes.HTTP_STATUS, written: 1 });
    expect(await store.head({ key: 'keep', variant: 'small', format: 'webp' })).toMatchObject({ degraded: true });
    expect(await store.head({ key: 'keep', variant: 'large', format: 'webp' })).toMatchObject({ degraded: false });

    // Rebuilding everything while the source is still gone keeps the stored copies as they are.
    const all = await regen.rebuild([record], { onlyMissing: false });
    expect(all.counts.stored).toBe(1);
    expect(await store.head({ key: 'keep', variant: 'large', format: 'webp' })).toMatchObject({ degraded: false });
  });

  it('stops taking records when aborted and says so', async () => {
    const { server, records } = await manifestOrigin();
    const regen = regenerator(server, { concurrency: 2 });
    const controller = new AbortController();
    const report = await regen.rebuild(records, {
      signal: controller.signal,
      onRecord: (r) => {
        if (r.outcome === 'regenerated') controller.abort();
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.total).toBeGreaterThan(0);
    expect(report.total).toBeLessThan(30);
    expect(server.hits()).toBeLessThan(30);
  });

  it('caps the fallbacks kept in the report but hands every one to onRecord', async () => {
    const { server, records } = await manifestOrigin();
    const regen = regenerator(server);
    let fallbacks = 0;
    const report = await regen.rebuild(records, {
      maxReportedFallbacks: 3,
      onRecord: (r) => void (r.outcome === 'placeholder' && (fallbacks += 1)),
    });
    expect(report.fallbacks).toHaveLength(3);
    expect(report.fallbacksDropped).toBe(7);
    expect(fallbacks).toBe(10);
  });

  it('rebuildRecord one by one, folded by a RebuildTally, gives the same report as rebuild()', async () => {
    const { server, records } = await manifestOrigin();
    const whole = await regenerator(server).rebuild(records);
    const single = regenerator(server);
    const tally = new RebuildTally();
    for (const record of records) tally.add(await single.rebuildRecord(record));
    const folded = tally.report(false);

    const summary = (r: typeof whole) => ({
      total: r.total,
      counts: r.counts,
      bytesDownloaded: r.bytesDownloaded,
      bytesWritten: r.bytesWritten,
      fallbacks: r.fallbacks.map((f) => [f.key, f.outcome, f.reason]).sort(),
    });
    expect(summary(folded)).toEqual(summary(whole));
    expect(whole.bytesDownloaded).toBe(20 * jpeg.length);
    expect(whole.bytesWritten).toBeGreaterThan(0);
  });

  it('rejects an input that is not iterable', async () => {
    const server = await origin({});
    const regen = regenerator(server);
    await expect(regen.rebuild(42 as never)).rejects.toThrow(TypeError);
  });
});
