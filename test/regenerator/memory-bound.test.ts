/**
 * Peak memory stays under the bound the README states, measured as the peak RSS of a child
 * process (test/fixtures/memory-peak.mjs, which runs the BUILT library: `npm test` builds first):
 *
 *   peak RSS − idle RSS ≤ concurrency × maxBytes + downloadByteBudget + 4 × renderPixelBudget
 *                         + memoryCacheBytes + negativeCache.maxBytes + 8 MiB (placeholders)
 *                         + libvips' cache (sharp.cache()) + 96 MiB (buffers not yet collected)
 *                         + maxBytes per body of unknown length (its outgrown buffers)
 *
 * RSS does not depend on timing the way durations do, so these hold on a loaded machine.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../fixtures/memory-peak.mjs', import.meta.url));
const MIB = 1024 * 1024;
/**
 * Buffers that are garbage but not yet collected (undici's chunks, a body buffer outgrown): V8
 * collects once about 64 MiB of external memory has been allocated since its last collection on
 * Node 20; Node 24's V8 lets more pile up (30 × 16 MB bodies: +476–506 MB on 20, +526–547 on 24).
 */
const ALLOWANCE = 96 * MIB;
/** The regenerator's caches besides the memory cache: negative cache (default) and placeholders. */
const SMALL_CACHES = 8 * MIB + 8 * MIB;

let dir: string;
let png: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-memory-'));
  png = join(dir, 'noise.png');
  // 1100×1100 of noise: ~3.4 MB that sharp must decode whole (no shrink-on-load for PNG).
  await sharp({ create: { width: 1100, height: 1100, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .png()
    .toFile(png);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function measure(...args: string[]): Promise<Record<string, any>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', FIXTURE, ...args], { timeout: 120_000, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

describe('memory bound', () => {
  it.each([
    ['with Content-Length', '16000000', []],
    ['chunked, of unknown length', '8000000', ['chunked']],
  ])('30 concurrent bodies of near maxBytes, %s: one buffer each', async (_, bytes, variant) => {
    const result = await measure('bodies', '30', bytes, ...variant);
    const grown = result.peakRss - result.baselineRss;
    // A body of unknown length grows by doubling: its outgrown buffers (together up to its final
    // size) are garbage until V8 collects them, which Node 24's V8 does later than Node 20's.
    const bound = (variant.length > 0 ? 2 : 1) * 30 * result.maxBytes + ALLOWANCE;
    console.info(`30 × ${mb(Number(bytes))} bodies ${variant.join('')}: RSS +${mb(grown)} (bodies ${mb(result.received)}), bound ${mb(bound)}`);
    expect(result.received).toBe(30 * Number(bytes));
    expect(grown).toBeLessThanOrEqual(bound);
  });

  it('80 concurrent get()s of slow-to-decode sources: downloads wait for renders instead of piling up', async () => {
    const result = await measure('gets', '80', png);
    const { settings } = result;
    const grown = result.peakRss - result.baselineRss;
    const bound =
      settings.concurrency * settings.maxBytes +
      settings.downloadByteBudget +
      4 * settings.renderPixelBudget +
      settings.memoryCacheBytes +
      SMALL_CACHES +
      result.vipsCacheBytes +
      ALLOWANCE;
    console.info(`80 get()s of ${mb(result.sourceBytes)} PNGs: RSS +${mb(grown)}, at most ${result.peakHeld} sources held at once, bound ${mb(bound)}`);
    expect(result.regenerated).toBe(80);
    expect(grown).toBeLessThanOrEqual(bound);
    // The sources held at once: the first wave of downloads (nothing held yet), then the budget.
    expect(result.peakHeld * result.sourceBytes).toBeLessThanOrEqual(settings.concurrency * settings.maxBytes + settings.downloadByteBudget);
  });
});
