/**
 * Everything kept beyond a request is bounded in bytes, not only in entries: the rebuild
 * report's fallbacks, the memory cache (thumbnails carry the failures that led to them) and the
 * scheduler's table of hosts.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryCache } from '../../src/regenerator/memory-cache.js';
import { RebuildTally } from '../../src/regenerator/rebuild-tally.js';
import type { RecordResult } from '../../src/regenerator/rebuild-types.js';
import { DownloadScheduler } from '../../src/scheduling/download-scheduler.js';
import { Priority } from '../../src/scheduling/priority.js';

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

describe('DownloadScheduler: the host table is bounded in characters', () => {
  it('2 000 idle hosts of 1 000 characters are not all remembered', async () => {
    const scheduler = new DownloadScheduler({
      concurrency: 4,
      perHost: { concurrency: 2, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined },
      circuitBreaker: { failures: 3, coolDownMs: 60_000 },
      maxRetryAfterMs: 30_000,
    });
    for (let n = 0; n < 2_000; n += 1) {
      const host = `${n}-${'h'.repeat(1_000)}.example`;
      await scheduler.run(host, async () => n, { priority: Priority.batch, url: `http://${host}/a.jpg` });
    }
    const remembered = Object.keys(scheduler.hostStats());
    expect(remembered.length).toBeLessThanOrEqual(131);
    expect(remembered.reduce((chars, host) => chars + host.length, 0)).toBeLessThanOrEqual(128 * 1024);
  });
});
