/**
 * Downloads do not run ahead of rendering: the bytes of source bodies held between download and
 * the end of their render stay within `downloadByteBudget` plus what was in flight, for get()
 * and rebuild() alike, with get() first, a source larger than the budget still rendered, and
 * nothing left counted after failures.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import { decode, makeImage } from '../helpers/images.js';
import { until, useHarness } from './support.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
const MB = 1024 * 1024;
/** A noise PNG: no shrink-on-load, so every render decodes all of it (slow to decode). */
let png: Buffer;

beforeAll(async () => {
  png = await makeImage('png', 1000, 800, { noise: true });
});

/** Sources downloaded but not yet rendered, at its peak: counted at each completed download. */
function watchHeld(regen: Regenerator): { peakCount: number; peakBytes: number } {
  const peak = { peakCount: 0, peakBytes: 0 };
  let downloaded = 0;
  regen.on('fetch', (event) => {
    if (!event.ok) return;
    downloaded += 1;
    const stats = regen.stats();
    peak.peakCount = Math.max(peak.peakCount, downloaded - stats.decodes);
    peak.peakBytes = Math.max(peak.peakBytes, stats.sourceBytes ?? 0);
  });
  return peak;
}

describe('downloadByteBudget', () => {
  it('40 concurrent get()s of distinct slow-to-decode records hold no more than the budget plus what was in flight', async () => {
    const server = await origin({ '/photo.png': { kind: 'image', body: png, contentType: 'image/png' } });
    const budget = 3 * MB;
    const concurrency = 4;
    const maxBytes = 3 * MB;
    const regen = regenerator(server, {
      concurrency,
      perHost: { concurrency, initialConcurrency: concurrency },
      renderConcurrency: 1,
      maxBytes,
      downloadByteBudget: budget,
    });
    const held = watchHeld(regen);
    const thumbs = await Promise.all(Array.from({ length: 40 }, (_, i) => regen.get({ url: server.urlFor(`/photo.png?${i}`) }, 'small')));
    expect(thumbs.every((thumb) => thumb.outcome === 'regenerated')).toBe(true);
    expect(await decode(thumbs[39]!.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    const bound = budget + concurrency * maxBytes;
    console.info(`40 get()s: at most ${held.peakCount} sources (${(held.peakBytes / MB).toFixed(1)} MB) held at once; bound ${bound / MB} MB`);
    // Without the budget every download completed long before its render: ~35 bodies at once.
    expect(held.peakCount * png.length).toBeLessThanOrEqual(bound);
    expect(held.peakBytes).toBeLessThanOrEqual(bound);
    expect(regen.stats().sourceBytes).toBe(0);
  });

  it('a source larger than the whole budget is still downloaded and rendered, and a tiny budget never deadlocks', async () => {
    const server = await origin({ '/photo.png': { kind: 'image', body: png, contentType: 'image/png' } });
    const regen = regenerator(server, { downloadByteBudget: 1_000, renderConcurrency: 1 });
    const thumbs = await Promise.all(Array.from({ length: 12 }, (_, i) => regen.get({ url: server.urlFor(`/photo.png?${i}`) }, 'small')));
    expect(thumbs.map((thumb) => thumb.outcome)).toEqual(new Array(12).fill('regenerated'));
    expect(regen.stats().sourceBytes).toBe(0);
  });

  it('releases the bytes of sources that fail after downloading, or whose callers leave', async () => {
    const server = await origin({
      '/photo.png': { kind: 'image', body: png, contentType: 'image/png', delayMs: 50 },
      '/junk.png': { kind: 'image', body: Buffer.concat([png.subarray(0, 2_000), Buffer.alloc(200_000, 7)]), contentType: 'image/png' },
      '/page.png': { kind: 'html', contentType: 'image/png' },
    });
    const regen = regenerator(server, { downloadByteBudget: 4 * MB, renderConcurrency: 1, retry: { retries: 0 } });
    const failed = await Promise.all([regen.get({ url: server.urlFor('/junk.png') }, 'small'), regen.get({ url: server.urlFor('/page.png') }, 'small')]);
    expect(failed.map((thumb) => thumb.reason)).toEqual([ErrorCodes.DECODE_FAILED, ErrorCodes.NOT_AN_IMAGE]);
    expect(regen.stats().sourceBytes).toBe(0);

    const controller = new AbortController();
    const left = Array.from({ length: 6 }, (_, i) => regen.get({ url: server.urlFor(`/photo.png?left-${i}`) }, 'small', { signal: controller.signal }));
    expect(await until(() => regen.stats().sourceBytes > 0)).toBe(true);
    controller.abort(new Error('the callers went away'));
    await Promise.allSettled(left);
    expect(await until(() => regen.stats().sourceBytes === 0 && regen.stats().regenerating === 0)).toBe(true);
  });

  it('a get() waiting for the budget goes ahead of the rebuild that filled it', async () => {
    const arrivals: string[] = [];
    const server = await origin({
      '/photo.png': {
        kind: 'handler',
        handle: (req, res) => {
          arrivals.push(req.url ?? '');
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
          res.end(png);
        },
      },
    });
    // A budget of one byte: full as soon as any body is held. The first six batch downloads start
    // together (nothing was held yet), then everything waits for their renders, one at a time.
    const regen = regenerator(server, { downloadByteBudget: 1, renderConcurrency: 1, perHost: { concurrency: 6, initialConcurrency: 6 } });
    const rebuilding = regen.rebuild(Array.from({ length: 12 }, (_, i) => ({ url: server.urlFor(`/photo.png?batch-${i}`) })));
    expect(await until(() => arrivals.length >= 6 && regen.stats().sourceBytes > 0)).toBe(true);
    const thumb = await regen.get({ url: server.urlFor('/photo.png?get') }, 'small');
    expect(thumb.outcome).toBe('regenerated');
    const report = await rebuilding;
    expect(report.counts.regenerated).toBe(12);
    // The six batch downloads waiting for room (outside their host's slots) let the get() go first.
    expect(arrivals.indexOf('/photo.png?get')).toBe(6);
  });
});
