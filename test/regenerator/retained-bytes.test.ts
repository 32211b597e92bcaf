/**
 * Everything kept beyond a request is bounded in bytes, not only in entries: the rebuild
 * report's fallbacks, the memory cache (thumbnails carry the failures that led to them) and the
 * per-host tables (no host name longer than DNS allows gets into them).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryCache } from '../../src/regenerator/memory-cache.js';
import { RebuildTally } from '../../src/regenerator/rebuild-tally.js';
import type { RecordResult } from '../../src/regenerator/rebuild-types.js';
import { createRegenerator, MemoryStore } from '../../src/index.js';

const longUrl = (n: number): string => `http://images.example/${n}/${'p'.repeat(8_000)}`;

function fallback(n: number, record: RecordResult['record'] = { url: longUrl(n) }): RecordResult {
  const url = typeof record.url === 'string' ? record.url : 'x';
  return {
    record,
    key: `k/${n}`,
    outcome: 'placeholder',
    reason: ErrorCodes.HTTP_STATUS,
    failures: [{ source: url, code: ErrorCodes.HTTP_STATUS, status: 404, message: `${url.slice(0, 200)} answered HTTP 404` }],
    written: 0,
    bytesDownloaded: 0,
    bytesWritten: 0,
  };
}

describe('RebuildTally: fallbacks bounded in bytes', () => {
  it('keeps the first fallbacks that fit maxReportedFallbackBytes and counts the rest as dropped', () => {
    const tally = new RebuildTally({ maxReportedFallbacks: 10_000, maxReportedFallbackBytes: 200_000 });
    for (let n = 0; n < 100; n += 1) tally.add(fallback(n));
    const report = tally.report(false);
    // Each holds its 8 KB URL twice over (record and failure) at two bytes a character: ~33 KB.
    expect(report.fallbacks.length).toBeGreaterThanOrEqual(5);
    expect(report.fallbacks.length).toBeLessThanOrEqual(6);
    expect(report.fallbacks.length + report.fallbacksDropped).toBe(100);
    expect(report.counts.placeholder).toBe(100);
    expect(report.fallbacks[0]?.key).toBe('k/0');
  });

  it('a record as given with a million mirrors is measured only as far as the room left, and dropped', () => {
    const tally = new RebuildTally();
    const huge = { url: 'http://images.example/a', mirrors: new Array<string>(1_000_000).fill('http://images.example/m') };
    tally.add(fallback(0, huge));
    tally.add(fallback(1, { url: 'http://images.example/b' }));
    const report = tally.report(false);
    expect(report.fallbacks.map((f) => f.key)).toEqual(['k/1']);
    expect(report.fallbacksDropped).toBe(1);
  });

  it('by default holds 10 000 ordinary fallbacks (the count bound is the one that binds)', () => {
    const tally = new RebuildTally();
    for (let n = 0; n < 10_001; n += 1) tally.add(fallback(n, { url: `http://images.example/photos/${n}.jpg` }));
    const report = tally.report(false);
    expect(report.fallbacks).toHaveLength(10_000);
    expect(report.fallbacksDropped).toBe(1);
  });
});

describe('MemoryCache: counts what a thumbnail carries besides its body', () => {
  it('a mirror thumbnail with the failure of an 8 KB URL counts that URL', () => {
    const cache = new MemoryCache(1 << 20);
    const url = longUrl(1);
    cache.set({
      body: Buffer.alloc(100),
      contentType: 'image/webp',
      width: 10,
      height: 10,
      outcome: 'mirror',
      degraded: false,
      key: 'k',
      variant: 'small',
      reason: ErrorCodes.HTTP_STATUS,
      failures: [{ source: url, code: ErrorCodes.HTTP_STATUS, status: 404, message: 'gone' }],
    });
    expect(cache.stats.bytes).toBeGreaterThanOrEqual(100 + 2 * url.length);
  });
});

describe('host names: none longer than DNS allows is fetched or remembered', () => {
  it('300 records whose host names are 1 000 characters fall back as RETHUMB_INVALID_URL, and no host table holds them', async () => {
    const regen = createRegenerator({ store: new MemoryStore(), variants: { small: { width: 32, height: 32, fit: 'cover' } } });
    try {
      // One label of 1 000 characters: a resolver could not even encode it (labels stop at 63),
      // so even a regression would not send a DNS query.
      const thumbs = await Promise.all(
        Array.from({ length: 300 }, (_, n) => regen.get({ url: `http://${n}-${'h'.repeat(1_000)}.example/a.jpg` }, 'small')),
      );
      expect(new Set(thumbs.map((thumb) => thumb.reason))).toEqual(new Set([ErrorCodes.INVALID_URL]));
      expect(thumbs[0]?.failures?.[0]?.message).toContain('over the 253 a DNS name can have');
      const hosts = Object.keys(regen.stats().hosts);
      expect(hosts.every((host) => host.length <= 253)).toBe(true);
    } finally {
      await regen.close();
    }
  });
});
