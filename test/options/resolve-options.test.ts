import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../src/errors.js';
import { DEFAULTS, defaultRenderConcurrency, resolveOptions, type RegeneratorOptions } from '../../src/options.js';
import type { Store } from '../../src/storage/store.js';

/** A real (if trivial) store: resolveOptions only checks the shape. */
const store: Store = {
  get: async () => undefined,
  head: async () => undefined,
  put: async () => undefined,
  delete: async () => undefined,
  list: async function* () {},
};
const base: RegeneratorOptions = { store, variants: { small: { width: 150, height: 150, fit: 'cover' } } };

function configError(options: unknown): ConfigError {
  try {
    resolveOptions(options as RegeneratorOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveOptions', () => {
  it('fills every default and freezes the result', () => {
    const resolved = resolveOptions(base);
    expect(resolved.format).toBe('webp');
    expect(resolved.quality).toBe(80);
    expect(resolved.concurrency).toBe(20);
    expect(resolved.perHost).toEqual({ concurrency: 6, intervalMs: undefined, intervalCap: undefined, initialConcurrency: 1 });
    expect(resolved.retry).toEqual({ retries: 2, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 });
    expect(resolved.circuitBreaker).toEqual({ failures: 5, coolDownMs: 30_000 });
    expect(resolved.negativeCache).toEqual({ permanentTtlMs: 600_000, transientTtlMs: 10_000, maxEntries: 10_000 });
    expect(resolved.backup).toEqual([]);
    expect(resolved.maxBytes).toBe(DEFAULTS.maxBytes);
    expect(resolved.maxPixels).toBe(DEFAULTS.maxPixels);
    expect(resolved.maxRedirects).toBe(5);
    expect(resolved.allowHosts).toEqual([]);
    expect(resolved.allowPrivateNetworks).toBe(false);
    expect(resolved.allowSvg).toBe(false);
    expect(resolved.renderConcurrency).toBe(defaultRenderConcurrency());
    expect(resolved.variants.get('small')).toEqual({ name: 'small', width: 150, height: 150, fit: 'cover' });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('sizes the default render concurrency to `cores`, within the thread pool it is given', () => {
    const pool = process.env.UV_THREADPOOL_SIZE;
    try {
      delete process.env.UV_THREADPOOL_SIZE;
      expect(resolveOptions(base).cores).toBe(availableParallelism());
      // libuv's default 4 threads: one is left for the file system and DNS.
      expect(resolveOptions({ ...base, cores: 32 })).toMatchObject({ cores: 32, renderConcurrency: 3 });
      // A 32-core machine whose pool was sized for it (as the `rethumb` bin does): one image more than cores.
      process.env.UV_THREADPOOL_SIZE = '37';
      expect(resolveOptions({ ...base, cores: 32 })).toMatchObject({ cores: 32, renderConcurrency: 33 });
      expect(resolveOptions({ ...base, cores: 1 }).renderConcurrency).toBe(2);
      // An explicit value wins over the default.
      expect(resolveOptions({ ...base, cores: 32, renderConcurrency: 5 }).renderConcurrency).toBe(5);
    } finally {
      if (pool === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = pool;
    }
  });

  it('defaults quality per format and a one-sided variant to fit inside', () => {
    const resolved = resolveOptions({ ...base, format: 'avif', variants: { large: { width: 800 } } });
    expect(resolved.quality).toBe(50);
    expect(resolved.variants.get('large')).toEqual({ name: 'large', width: 800, height: undefined, fit: 'inside' });
  });

  it('normalises allowHosts to lower-case host or host:port', () => {
    const resolved = resolveOptions({ ...base, allowHosts: ['Images.Example.com', '127.0.0.1:8080', '[::1]:9000', '[::1]'] });
    expect(resolved.allowHosts).toEqual(['images.example.com', '127.0.0.1:8080', '[::1]:9000', '[::1]']);
  });

  it.each([
    ['options', null],
    ['store', { ...base, store: undefined }],
    ['store', { ...base, store: { get() {} } }],
    ['variants', { ...base, variants: undefined }],
    ['variants', { ...base, variants: {} }],
    ['variants["../x"]', { ...base, variants: { '../x': { width: 10 } } }],
    ['variants.small', { ...base, variants: { small: {} } }],
    ['variants.small.width', { ...base, variants: { small: { width: 0 } } }],
    ['variants.small.width', { ...base, variants: { small: { width: 1.5 } } }],
    ['variants.small.height', { ...base, variants: { small: { height: 100_000 } } }],
    ['variants.small.fit', { ...base, variants: { small: { width: 10, fit: 'stretch' } } }],
    ['variants.small.height', { ...base, variants: { small: { width: 10, fit: 'cover' } } }],
    ['format', { ...base, format: 'gif' }],
    ['quality', { ...base, quality: 0 }],
    ['quality', { ...base, quality: 101 }],
    ['concurrency', { ...base, concurrency: 0 }],
    ['concurrency', { ...base, concurrency: Number.POSITIVE_INFINITY }],
    ['renderConcurrency', { ...base, renderConcurrency: -1 }],
    ['perHost', { ...base, perHost: 4 }],
    ['perHost.concurrency', { ...base, perHost: { concurrency: 0 } }],
    ['perHost.intervalCap', { ...base, perHost: { intervalMs: 1000 } }],
    ['perHost.intervalMs', { ...base, perHost: { intervalCap: 5 } }],
    ['maxBytes', { ...base, maxBytes: '10MB' }],
    ['maxPixels', { ...base, maxPixels: Number.NaN }],
    ['maxRedirects', { ...base, maxRedirects: 50 }],
    ['timeoutMs', { ...base, timeoutMs: 0 }],
    ['headersTimeoutMs', { ...base, headersTimeoutMs: '10s' }],
    ['connectTimeoutMs', { ...base, connectTimeoutMs: 1e12 }],
    ['allowHosts', { ...base, allowHosts: 'localhost' }],
    ['allowHosts[0]', { ...base, allowHosts: ['http://example.com/path'] }],
    ['allowHosts[1]', { ...base, allowHosts: ['ok.example', ''] }],
    ['allowPrivateNetworks', { ...base, allowPrivateNetworks: 'yes' }],
    ['allowSvg', { ...base, allowSvg: 1 }],
    ['userAgent', { ...base, userAgent: '' }],
    ['memoryCacheBytes', { ...base, memoryCacheBytes: -1 }],
    ['placeholderColor', { ...base, placeholderColor: 'red' }],
    ['cores', { ...base, cores: 0 }],
    ['cores', { ...base, cores: 2.5 }],
  ])('rejects a bad `%s`', (option, options) => {
    const error = configError(options);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`\`${option}\``);
  });

  it('names what is allowed and what it got', () => {
    expect(configError({ ...base, format: 'gif' }).message).toBe(
      'Expected `format` to be one of `webp`, `jpeg`, `png`, `avif`, got `gif`',
    );
  });
});
