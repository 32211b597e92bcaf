import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore } from '../../src/index.js';
import { resolveOptions, type RegeneratorOptions } from '../../src/options.js';

const base: RegeneratorOptions = { store: new MemoryStore(), variants: { small: { width: 10 } } };

describe('politeness options', () => {
  it('merges partial objects with the defaults', () => {
    const resolved = resolveOptions({ ...base, retry: { retries: 0 }, circuitBreaker: { coolDownMs: 5 }, negativeCache: { maxEntries: 0 }, perHost: { concurrency: 2, initialConcurrency: 8 } });
    expect(resolved.retry).toEqual({ retries: 0, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 });
    expect(resolved.circuitBreaker).toEqual({ failures: 5, coolDownMs: 5 });
    expect(resolved.negativeCache).toEqual({ permanentTtlMs: 600_000, transientTtlMs: 10_000, maxEntries: 0, maxBytes: 8 * 1024 * 1024 });
    // An initial concurrency above the cap means "no slow start".
    expect(resolved.perHost).toMatchObject({ concurrency: 2, initialConcurrency: 2 });
  });

  it.each([
    ['retry', { retry: 3 }],
    ['retry.retries', { retry: { retries: -1 } }],
    ['retry.baseDelayMs', { retry: { baseDelayMs: 1.5 } }],
    ['retry.maxDelayMs', { retry: { baseDelayMs: 500, maxDelayMs: 100 } }],
    ['retry.maxRetryAfterMs', { retry: { maxRetryAfterMs: -5 } }],
    ['circuitBreaker', { circuitBreaker: null }],
    ['circuitBreaker.failures', { circuitBreaker: { failures: 0 } }],
    ['circuitBreaker.coolDownMs', { circuitBreaker: { coolDownMs: 0 } }],
    ['negativeCache', { negativeCache: [] }],
    ['negativeCache.permanentTtlMs', { negativeCache: { permanentTtlMs: '1m' } }],
    ['negativeCache.maxEntries', { negativeCache: { maxEntries: Infinity } }],
    ['perHost.initialConcurrency', { perHost: { initialConcurrency: 0 } }],
    ['backup', { backup: new MemoryStore() }],
  ])('rejects a bad `%s`', (option, patch) => {
    expect(() => resolveOptions({ ...base, ...(patch as Partial<RegeneratorOptions>) })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option }));
  });
});
