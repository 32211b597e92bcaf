import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { NegativeCache } from '../../src/regenerator/negative-cache.js';

const OPTIONS = { permanentTtlMs: 600_000, transientTtlMs: 10_000, maxEntries: 3, maxBytes: 1_000_000 };

function cache(options = OPTIONS): { cache: NegativeCache; clock: { now: number } } {
  const clock = { now: 1_000 };
  return { cache: new NegativeCache(options, () => clock.now), clock };
}

describe('NegativeCache', () => {
  it('remembers a permanent failure for minutes and a transient one for seconds', () => {
    const { cache: c, clock } = cache();
    c.remember('http://o/404', { source: 'http://o/404', code: ErrorCodes.HTTP_STATUS, status: 404, message: '404' });
    c.remember('http://o/503', { source: 'http://o/503', code: ErrorCodes.HTTP_STATUS, status: 503, message: '503' });
    expect(c.recall('http://o/404')).toMatchObject({ failureClass: 'permanent', failure: { status: 404 } });
    expect(c.recall('http://o/503')).toMatchObject({ failureClass: 'transient' });
    clock.now += 10_001;
    expect(c.recall('http://o/503')).toBeUndefined();
    expect(c.recall('http://o/404')).toBeDefined();
    clock.now += 600_000;
    expect(c.recall('http://o/404')).toBeUndefined();
  });

  it('ignores failures that are not the source\'s doing (open circuit, abort, store)', () => {
    const { cache: c } = cache();
    for (const code of [ErrorCodes.ORIGIN_UNAVAILABLE, ErrorCodes.ABORTED, ErrorCodes.STORE, ErrorCodes.CLOSED, ErrorCodes.DEADLINE]) {
      c.remember(`http://o/${code}`, { source: 'x', code, message: '' });
    }
    expect(c.size).toBe(0);
  });

  it('never remembers a refusal by our own configuration (address policy, allowSvg): it is not the source\'s failure', () => {
    const { cache: c } = cache();
    c.remember('http://127.0.0.1:8123/a.jpg', { source: 'x', code: ErrorCodes.FORBIDDEN_ADDRESS, message: '' });
    c.remember('http://o/a.svg', { source: 'x', code: ErrorCodes.UNSUPPORTED_FORMAT, refusedBy: 'allowSvg', message: '' });
    expect(c.size).toBe(0);
    // A format no option accepts (BMP) is the source's: remembered.
    c.remember('http://o/a.bmp', { source: 'x', code: ErrorCodes.UNSUPPORTED_FORMAT, message: '' });
    expect(c.recall('http://o/a.bmp')).toMatchObject({ failureClass: 'permanent' });
  });

  it('is bounded: the least recently used entry goes first', () => {
    const { cache: c } = cache();
    for (const n of [1, 2, 3]) c.remember(`http://o/${n}`, { source: 'x', code: ErrorCodes.NOT_AN_IMAGE, message: '' });
    c.recall('http://o/1');
    c.remember('http://o/4', { source: 'x', code: ErrorCodes.NOT_AN_IMAGE, message: '' });
    expect(c.size).toBe(3);
    expect(c.recall('http://o/2')).toBeUndefined();
    expect(c.recall('http://o/1')).toBeDefined();
  });

  it('forgets a URL that succeeded, and a TTL of 0 or maxEntries of 0 disables it', () => {
    const { cache: c } = cache();
    c.remember('http://o/a', { source: 'x', code: ErrorCodes.TIMEOUT, message: '' });
    c.forget('http://o/a');
    expect(c.recall('http://o/a')).toBeUndefined();
    const { cache: noTransient } = cache({ ...OPTIONS, transientTtlMs: 0 });
    noTransient.remember('http://o/a', { source: 'x', code: ErrorCodes.TIMEOUT, message: '' });
    expect(noTransient.recall('http://o/a')).toBeUndefined();
    const { cache: off } = cache({ ...OPTIONS, maxEntries: 0 });
    off.remember('http://o/a', { source: 'x', code: ErrorCodes.HTTP_STATUS, status: 404, message: '' });
    expect(off.recall('http://o/a')).toBeUndefined();
  });

  it('is bounded by bytes too: long messages push out old entries before maxEntries is reached', () => {
    const { cache: c } = cache({ ...OPTIONS, maxEntries: 1_000, maxBytes: 10_000 });
    for (let n = 0; n < 100; n += 1) {
      c.remember(`http://o/${n}`, { source: 'x', code: ErrorCodes.NOT_AN_IMAGE, message: 'm'.repeat(5_000) });
    }
    expect(c.bytes).toBeLessThanOrEqual(10_000);
    expect(c.size).toBeGreaterThan(0);
    expect(c.size).toBeLessThan(100);
    expect(c.recall('http://o/99')).toBeDefined();
    expect(c.recall('http://o/0')).toBeUndefined();
  });

  it('keeps a bounded message and gives the failure back with the URL asked about, status, phase and limit', () => {
    const { cache: c } = cache();
    const url = `http://o/${'p'.repeat(8_000)}`;
    c.remember(url, { source: url, code: ErrorCodes.TIMEOUT, message: `${url}: headers deadline of 300 ms passed`, phase: 'headers', timeoutMs: 300 });
    const recalled = c.recall(url);
    expect(recalled?.failure).toMatchObject({ source: url, code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 300 });
    expect(recalled?.failure.message.length).toBeLessThanOrEqual(1_000);
    expect(recalled?.failureClass).toBe('transient');
    // The entry's size does not grow with the URL: it is keyed by a hash.
    expect(c.bytes).toBeLessThan(3_000);
    expect(c.recall(`${url}x`)).toBeUndefined();
  });

  it('maxBytes of 0 disables it', () => {
    const { cache: off } = cache({ ...OPTIONS, maxBytes: 0 });
    off.remember('http://o/a', { source: 'x', code: ErrorCodes.HTTP_STATUS, status: 404, message: '' });
    expect(off.recall('http://o/a')).toBeUndefined();
  });
});
