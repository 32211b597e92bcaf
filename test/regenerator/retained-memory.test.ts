/**
 * What a regenerator keeps after failures is bounded by bytes, whatever the length of the URLs:
 * measured on the V8 heap after full collections (`--expose-gc`, set at run time for this file).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import type { TestOrigin } from '../../src/testing/test-origin.js';
import { useHarness } from './support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const VARIANTS = { small: { width: 32, height: 32, fit: 'cover' } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
const MB = 1024 * 1024;
/** The longest URL a record may have (`LONGEST_URL`, spelled out so this file also runs against code without it). */
const LONGEST_URL = 8_192;

/** Heap in use after full collections. */
function heapUsed(): number {
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * `value` as one flat string, as JSON.parse or a socket would produce it. (`'x'.repeat(n)` is a
 * tree of ropes sharing halves, a few hundred bytes whatever `n`: kept whole, it would prove nothing.)
 */
function flat(value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1');
}

/** `count` get()s of distinct failing URLs of `length` characters, `batch` at a time; nothing of them is kept here. */
async function failMany(regen: Regenerator, server: TestOrigin, count: number, length: number, batch = 50): Promise<string[]> {
  const reasons = new Set<string>();
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, async (_, i) => {
        // Built here and dropped: only what the regenerator keeps survives the collections. The
        // query makes each URL distinct; the origin counts by path, so it keeps none of them.
        const prefix = server.urlFor(`/gone?${start + i}=`);
        const thumb = await regen.get({ url: flat(prefix + 'x'.repeat(length - prefix.length)) }, 'small');
        reasons.add(thumb.reason ?? 'none');
      }),
    );
  }
  return [...reasons];
}

/**
 * The same work through a throwaway regenerator first: V8 compiles and optimises the request
 * path as it runs (~0.4 KB of code per request over the first thousands), which is not retention.
 */
async function warmUp(server: TestOrigin): Promise<void> {
  const warm = regenerator(server, { negativeCache: { maxEntries: 0 } });
  await failMany(warm, server, 500, LONGEST_URL);
  await failMany(warm, server, 300, 100_000);
  await warm.close();
}

describe('retained memory after failures', () => {
  it('2 000 failing URLs of the longest accepted length (8 KB) keep well under 2 MB in the negative cache', async () => {
    const server = await origin({});
    await warmUp(server);
    const retainedBy = async (regen: Regenerator): Promise<number> => {
      await failMany(regen, server, 20, 100);
      const before = heapUsed();
      expect(await failMany(regen, server, 2_000, LONGEST_URL)).toEqual([ErrorCodes.HTTP_STATUS]);
      return heapUsed() - before;
    };
    // Without a negative cache: what the same work leaves on the heap anyway (compiled code, timers).
    const control = await retainedBy(regenerator(server, { negativeCache: { maxEntries: 0 } }));
    const regen = regenerator(server);
    const retained = await retainedBy(regen);
    const { negativeCache } = regen.stats();
    console.info(
      `2000 failing 8 KB URLs: ${(retained / MB).toFixed(2)} MB of heap retained (${(control / MB).toFixed(2)} MB without a negative cache); ` +
        `negative cache ${negativeCache.entries} entries, ${(negativeCache.bytes / MB).toFixed(2)} MB estimated`,
    );
    expect(negativeCache.entries).toBe(2_020);
    // The URLs alone are 16 MB: keyed by whole URLs (or by message slices of them), they were all kept.
    expect(retained).toBeLessThan(2 * MB);
    // What the byte bound counts is not below what the entries really hold.
    expect(negativeCache.bytes).toBeGreaterThanOrEqual(retained - control);
  });

  it('300 records with 100 KB URLs are refused as invalid records and keep nothing', async () => {
    const server = await origin({});
    await warmUp(server);
    const regen = regenerator(server);
    await failMany(regen, server, 20, 100);
    server.resetCounts();
    const before = heapUsed();
    expect(await failMany(regen, server, 300, 100_000)).toEqual([ErrorCodes.INVALID_RECORD]);
    const retained = heapUsed() - before;
    console.info(`300 records with 100 KB URLs: ${(retained / MB).toFixed(2)} MB of heap retained`);
    expect(server.hits()).toBe(0);
    expect(retained).toBeLessThan(MB);
  });
});
