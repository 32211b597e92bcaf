/**
 * Every option of `createRegenerator()`, its default and the reason for that default, in one
 * place. `resolveOptions()` merges once, validates once and freezes; layers receive the
 * resolved object and never re-read user input.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';
import type { Coordination } from './scheduling/coordination.js';
import type { Store } from './storage/store.js';
import type { Fit, OutputFormat, VariantSpec } from './types.js';

export interface RegeneratorOptions {
  /** Where thumbnails are read from and written to. Required. */
  store: Store;
  /**
   * Named sizes, e.g. `{ small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } }`.
   * Names are `[A-Za-z0-9][A-Za-z0-9_-]*` (they become file names). Required, at least one.
   */
  variants: Readonly<Record<string, VariantSpec>>;
  /**
   * Output format of every variant.
   * @default 'webp' — the smallest widely supported format at equal quality, and fast to encode.
   */
  format?: OutputFormat;
  /**
   * Encoder quality, 1–100 (ignored for `png`, which is lossless).
   * @default 80 for webp and jpeg, 50 for avif — sharp's own defaults, visually lossless for thumbnails.
   */
  quality?: number;
  /**
   * Sources downloading at once, across all hosts.
   * @default 20 — the cap a backup service settled on after its restart overwhelmed it (DESIGN.md).
   */
  concurrency?: number;
  /**
   * Limits per origin host (`host:port`), on top of `concurrency`.
   * - `concurrency`: downloads from one host at once. @default 6 — what browsers open per host.
   * - `intervalMs` / `intervalCap`: at most `intervalCap` requests start per `intervalMs` to one
   *   host. @default unset — no rate limit beyond concurrency.
   * - `initialConcurrency`: downloads from one host at once at start-up and after its circuit
   *   closes; doubles per round of successes up to `concurrency` (slow start). @default 1 — a
   *   host that just came back is not hit by every client at once (DESIGN.md, post-mortem 4).
   */
  perHost?: PerHostOptions;
  /**
   * Retries of transient source failures (connection errors, timeouts, 408, 425, 429, 500, 502,
   * 503, 504), with exponential backoff and full jitter. Other 4xx are never retried.
   * - `retries`: retries per record, shared by its `url` and mirrors. @default 2 — a blip
   *   recovers; a stalled origin costs at most three timeouts.
   * - `baseDelayMs`: backoff ceiling of the first retry; doubles per retry. @default 250
   * - `maxDelayMs`: largest backoff ceiling. @default 10_000
   * - `maxRetryAfterMs`: longest pause a host's `Retry-After` imposes on it. @default 30_000 —
   *   obeyed, but a header of an hour cannot park a request path for an hour.
   */
  retry?: RetryOptions;
  /**
   * A circuit breaker per host: after `failures` consecutive transient failures the host is
   * open for `coolDownMs` (its records fall back at once with `RETHUMB_ORIGIN_UNAVAILABLE`,
   * without a request), then one probe decides. A host answering 404s is healthy.
   * - `failures`: @default 5 — more than a record's own retries (3 attempts), so one bad file
   *   does not close a whole host.
   * - `coolDownMs`: @default 30_000 — long enough for a restart, short enough not to matter.
   */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * Remember source URLs that failed, so a dead URL is not fetched on every request.
   * - `permanentTtlMs`: for 404, 410, not an image, too large, forbidden … @default 600_000
   *   (10 min) — such failures last; a rebuild with `retryFailed` bypasses it.
   * - `transientTtlMs`: for timeouts, connection errors, 5xx, 429 … @default 10_000 — a flapping
   *   origin is retried soon.
   * - `maxEntries`: URLs remembered (least recently used go first). @default 10_000; 0 disables.
   */
  negativeCache?: NegativeCacheOptions;
  /**
   * Read-only stores consulted, in order, after the primary store misses and before fetching
   * (e.g. a restored old copy of the thumbnail tree). A hit is served with outcome `mirror`
   * and written back to the primary store (repair on read).
   * @default [] — no backup.
   */
  backup?: readonly Store[];
  /**
   * Images decoded and encoded by sharp at once. Downloads and rendering are separate stages.
   * @default min(`cores` + 1, UV_THREADPOOL_SIZE − 1), at least 1 — one image more than cores,
   * because a render spends part of its time between sharp calls (callbacks, thread-pool hops)
   * and a core would idle meanwhile (+7 % images/s on 2 cores, `npm run bench`); and sharp, `fs`
   * and `dns.lookup` share libuv's thread pool (4 threads unless `UV_THREADPOOL_SIZE` says
   * otherwise), so one thread is left for the file system and DNS lest a full pool stall downloads.
   * A library cannot resize its host's pool once it has started; the `rethumb` bin sizes it
   * before it starts (render concurrency + 4), so there the cap never bites.
   */
  renderConcurrency?: number;
  /**
   * Source pixels (width × height, from the header) in sharp at once, across all renders. Work
   * waits for pixels as well as for a slot, so a few huge sources cannot exhaust memory; a
   * source larger than the budget still renders, alone.
   * @default 100_000_000 — as many as `maxPixels`: the largest accepted source renders alone,
   * and four 24-megapixel photos fit together (at most ~400 MB of decoded RGBA).
   */
  renderPixelBudget?: number;
  /**
   * Largest source body, in bytes, enforced while streaming and at once from `Content-Length`.
   * @default 26_214_400 (25 MiB) — above any camera JPEG, below what lets one record hog memory.
   */
  maxBytes?: number;
  /**
   * Largest source, in pixels (width × height), read from the header before decoding.
   * @default 100_000_000 — a 100-megapixel photo renders; a 50 000 × 50 000 bomb does not.
   */
  maxPixels?: number;
  /**
   * Redirects followed per source; each hop is checked again.
   * @default 5 — CDNs use one or two; more is a misconfiguration or a loop.
   */
  maxRedirects?: number;
  /**
   * Time to open a TCP/TLS connection, in ms.
   * @default 5_000 — a healthy origin connects in well under a second.
   */
  connectTimeoutMs?: number;
  /**
   * Time from sending the request to receiving response headers, in ms.
   * @default 10_000 — lets a slow origin think; a hung one does not hold a slot for long.
   */
  headersTimeoutMs?: number;
  /**
   * Total deadline for one source, connect to last body byte, in ms. Unlike undici's
   * `bodyTimeout`, which only measures gaps between chunks, this trips on a body that drips.
   * @default 30_000 — 25 MiB at under 1 MB/s; anything slower is not worth a request slot.
   */
  timeoutMs?: number;
  /**
   * Hosts (`host` or `host:port`) exempt from the address policy, e.g. an internal image
   * server. Matched against the URL's host name, lower-cased; IPv6 in brackets.
   * @default [] — nothing private is reachable unless named.
   */
  allowHosts?: readonly string[];
  /**
   * Turn the address policy off: loopback, private, link-local and metadata addresses become
   * reachable. Only for trusted manifests on a trusted network.
   * @default false — the SSRF advisories of image proxies came from exactly this.
   */
  allowPrivateNetworks?: boolean;
  /**
   * Accept SVG sources (rasterised by librsvg; scripts never run, but the parser is a larger
   * attack surface than raster decoders).
   * @default false
   */
  allowSvg?: boolean;
  /**
   * The `User-Agent` sent to origins, so their operators can tell who is calling.
   * @default 'rethumb/<version> (+https://github.com/rethumb/rethumb)'
   */
  userAgent?: string;
  /**
   * Bytes of rendered thumbnails kept in the in-process LRU.
   * @default 67_108_864 (64 MiB) — some thousands of small webp thumbnails; 0 disables it.
   */
  memoryCacheBytes?: number;
  /**
   * Placeholder colour when a record has no `color` hint (`#rgb` or `#rrggbb`).
   * @default '#e4e4e7' — a neutral light grey that reads as "image loading" on light and dark UIs.
   */
  placeholderColor?: string;
  /**
   * Check every entry read from the store (and from `backup` stores, and the surviving variant a
   * stand-in is derived from) before using it: its structure, and the checksum sealed into every
   * thumbnail rethumb writes. A damaged entry is a miss (a `storeError` with
   * `RETHUMB_STORE_CORRUPT`), regenerated and overwritten. Entries without a seal (written before
   * seals existed) are checked by structure, then by their header as before.
   * @default true — a damaged file served is a broken image that caches keep for a year; the
   * check costs one pass over the bytes (docs/integrity.md). Turn it off only to measure that
   * cost, or for a store that verifies content itself.
   */
  verifyStored?: boolean;
  /**
   * Who shares this regenerator's politeness: the per-host cap and its slow start, `Retry-After`
   * pauses, circuit breakers and the negative cache. Processes downloading for the same job must
   * share one, so the origin sees one polite client, not one per process: for BullMQ workers,
   * `createFleetCoordination({ connection })` from `rethumb/bullmq` (over Redis).
   * `concurrency` stays a per-process cap whatever this says.
   * @default in-process — this regenerator alone (right for one process).
   */
  coordination?: Coordination;
  /**
   * CPU cores this regenerator sizes itself to: the default `renderConcurrency` follows it.
   * @default availableParallelism() — the cores this process may run on. Set it to a process's
   * share when several processes split one machine (`rethumb rebuild --processes` gives each
   * `ceil(cores / processes)`), or to another machine's count to test its configuration here.
   */
  cores?: number;
}

export interface PerHostOptions {
  /** Downloads from one host at once. @default 6 */
  concurrency?: number;
  /** Length of a rate window in ms (with `intervalCap`). @default undefined (no rate limit) */
  intervalMs?: number;
  /** Requests started per `intervalMs` (with `intervalMs`). @default undefined */
  intervalCap?: number;
  /** Downloads from one host at once at start-up and after its circuit closes (slow start). @default 1 */
  initialConcurrency?: number;
}

export interface RetryOptions {
  /** Retries per record. @default 2 */
  retries?: number;
  /** Backoff ceiling of the first retry, in ms. @default 250 */
  baseDelayMs?: number;
  /** Largest backoff ceiling, in ms. @default 10_000 */
  maxDelayMs?: number;
  /** Longest host pause from `Retry-After`, in ms. @default 30_000 */
  maxRetryAfterMs?: number;
}

export interface CircuitBreakerOptions {
  /** Consecutive transient failures that open a host's circuit. @default 5 */
  failures?: number;
  /** How long the circuit stays open before one probe, in ms. @default 30_000 */
  coolDownMs?: number;
}

export interface NegativeCacheOptions {
  /** How long a permanent failure is remembered, in ms; 0 forgets at once. @default 600_000 */
  permanentTtlMs?: number;
  /** How long a transient failure is remembered, in ms; 0 forgets at once. @default 10_000 */
  transientTtlMs?: number;
  /** URLs remembered; 0 disables the cache. @default 10_000 */
  maxEntries?: number;
}

export type ResolvedRetry = Readonly<Required<RetryOptions>>;
export type ResolvedCircuitBreaker = Readonly<Required<CircuitBreakerOptions>>;
export type ResolvedNegativeCache = Readonly<Required<NegativeCacheOptions>>;

export interface ResolvedPerHost {
  readonly concurrency: number;
  readonly intervalMs: number | undefined;
  readonly intervalCap: number | undefined;
  readonly initialConcurrency: number;
}

/** A variant after validation: `fit` is always set. */
export interface ResolvedVariant {
  readonly name: string;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fit: Fit;
}

export interface ResolvedOptions {
  readonly store: Store;
  readonly variants: ReadonlyMap<string, ResolvedVariant>;
  readonly format: OutputFormat;
  readonly quality: number;
  readonly concurrency: number;
  readonly perHost: ResolvedPerHost;
  readonly retry: ResolvedRetry;
  readonly circuitBreaker: ResolvedCircuitBreaker;
  readonly negativeCache: ResolvedNegativeCache;
  readonly backup: readonly Store[];
  readonly renderConcurrency: number;
  readonly renderPixelBudget: number;
  readonly maxBytes: number;
  readonly maxPixels: number;
  readonly maxRedirects: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly timeoutMs: number;
  readonly allowHosts: readonly string[];
  readonly allowPrivateNetworks: boolean;
  readonly allowSvg: boolean;
  readonly userAgent: string;
  readonly memoryCacheBytes: number;
  readonly placeholderColor: string;
  readonly verifyStored: boolean;
  /** Undefined means in-process (the regenerator supplies it: options cannot import upward). */
  readonly coordination: Coordination | undefined;
  readonly cores: number;
}

export const VERSION = '0.1.0';

/** Defaults of every optional option (quality and renderConcurrency depend on others). */
export const DEFAULTS = Object.freeze({
  format: 'webp' as OutputFormat,
  concurrency: 20,
  perHostConcurrency: 6,
  perHostInitialConcurrency: 1,
  retry: Object.freeze({ retries: 2, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 }),
  circuitBreaker: Object.freeze({ failures: 5, coolDownMs: 30_000 }),
  negativeCache: Object.freeze({ permanentTtlMs: 600_000, transientTtlMs: 10_000, maxEntries: 10_000 }),
  renderPixelBudget: 100_000_000,
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 100_000_000,
  maxRedirects: 5,
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  timeoutMs: 30_000,
  allowHosts: Object.freeze([]) as readonly string[],
  allowPrivateNetworks: false,
  allowSvg: false,
  userAgent: `rethumb/${VERSION} (+https://github.com/rethumb/rethumb)`,
  memoryCacheBytes: 64 * 1024 * 1024,
  placeholderColor: '#e4e4e7',
  verifyStored: true,
});

/** Default encoder quality per format. */
export const DEFAULT_QUALITY: Readonly<Record<OutputFormat, number>> = Object.freeze({
  webp: 80,
  jpeg: 80,
  avif: 50,
  png: 100,
});

/** Largest side of a variant box: a placeholder of the box is rendered, so it must stay small. */
export const MAX_VARIANT_SIDE = 8192;

export const OUTPUT_FORMATS: readonly OutputFormat[] = Object.freeze(['webp', 'jpeg', 'png', 'avif']);
export const FITS: readonly Fit[] = Object.freeze(['cover', 'contain', 'fill', 'inside', 'outside']);
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/** Largest `renderConcurrency`. */
export const MAX_RENDER_CONCURRENCY = 256;

/** The default number of images sharp works on at once, for `cores` cores (see `renderConcurrency`). */
export function defaultRenderConcurrency(cores: number = availableParallelism()): number {
  const pool = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  const threads = Number.isInteger(pool) && pool > 0 ? pool : 4;
  return Math.max(1, Math.min(cores + 1, threads - 1, MAX_RENDER_CONCURRENCY));
}

/** Merge, validate and freeze options. Throws `ConfigError` naming the first bad option. */
export function resolveOptions(options: RegeneratorOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
  const store = assertStore(options.store, 'store');
  const variants = resolveVariants(options.variants);
  const format = oneOf('format', options.format ?? DEFAULTS.format, OUTPUT_FORMATS);
  const quality = integer('quality', options.quality ?? DEFAULT_QUALITY[format], 1, 100);
  const allowHosts = (options.allowHosts ?? DEFAULTS.allowHosts) as unknown;
  if (!Array.isArray(allowHosts)) throw new ConfigError('allowHosts', 'an array of `host` or `host:port` strings', allowHosts);
  const hosts = allowHosts.map((h, i) => normalizeAllowedHost(h, `allowHosts[${i}]`));
  const cores = integer('cores', options.cores ?? availableParallelism(), 1, 65_536);
  return Object.freeze({
    store,
    variants,
    format,
    quality,
    concurrency: integer('concurrency', options.concurrency ?? DEFAULTS.concurrency, 1, 1000),
    perHost: resolvePerHost(options.perHost),
    retry: resolveRetry(options.retry),
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker),
    negativeCache: resolveNegativeCache(options.negativeCache),
    backup: resolveBackup(options.backup),
    renderConcurrency: integer('renderConcurrency', options.renderConcurrency ?? defaultRenderConcurrency(cores), 1, MAX_RENDER_CONCURRENCY),
    renderPixelBudget: integer('renderPixelBudget', options.renderPixelBudget ?? DEFAULTS.renderPixelBudget, 1, 2 ** 40),
    maxBytes: integer('maxBytes', options.maxBytes ?? DEFAULTS.maxBytes, 1, 2 ** 31 - 1),
    maxPixels: integer('maxPixels', options.maxPixels ?? DEFAULTS.maxPixels, 1, 2 ** 40),
    maxRedirects: integer('maxRedirects', options.maxRedirects ?? DEFAULTS.maxRedirects, 0, 20),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 1, 600_000),
    headersTimeoutMs: integer('headersTimeoutMs', options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs, 1, 600_000),
    timeoutMs: integer('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs, 1, 3_600_000),
    allowHosts: Object.freeze(hosts),
    allowPrivateNetworks: boolean('allowPrivateNetworks', options.allowPrivateNetworks ?? DEFAULTS.allowPrivateNetworks),
    allowSvg: boolean('allowSvg', options.allowSvg ?? DEFAULTS.allowSvg),
    userAgent: nonEmptyString('userAgent', options.userAgent ?? DEFAULTS.userAgent),
    memoryCacheBytes: integer('memoryCacheBytes', options.memoryCacheBytes ?? DEFAULTS.memoryCacheBytes, 0, 2 ** 40),
    placeholderColor: hexColor('placeholderColor', options.placeholderColor ?? DEFAULTS.placeholderColor),
    verifyStored: boolean('verifyStored', options.verifyStored ?? DEFAULTS.verifyStored),
    coordination: resolveCoordination(options.coordination),
    cores,
  });
}

function resolveCoordination(input: unknown): Coordination | undefined {
  if (input === undefined) return undefined;
  const given = input as Partial<Coordination> | null;
  if (given === null || typeof given !== 'object' || typeof given.scope !== 'string' || typeof given.hosts !== 'function' || typeof given.failures !== 'function') {
    throw new ConfigError('coordination', 'a Coordination (`{ scope, hosts(), failures() }`), e.g. `createFleetCoordination({ connection })` from rethumb/bullmq', input);
  }
  return given as Coordination;
}

function resolveVariants(input: unknown): ReadonlyMap<string, ResolvedVariant> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('variants', 'an object of named sizes, e.g. `{ small: { width: 150 } }`', input);
  }
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length === 0) throw new ConfigError('variants', 'at least one variant', 'an empty object');
  const variants = new Map<string, ResolvedVariant>();
  for (const [name, spec] of entries) {
    const path = `variants.${name}`;
    if (!VARIANT_NAME.test(name)) throw new ConfigError(`variants[${JSON.stringify(name)}]`, 'a name of letters, digits, `_` or `-` (at most 64)', name);
    if (spec === null || typeof spec !== 'object') throw new ConfigError(path, 'an object with `width` and/or `height`', spec);
    const { width, height, fit } = spec as VariantSpec;
    if (width === undefined && height === undefined) throw new ConfigError(path, 'an object with `width` and/or `height`', spec);
    const w = width === undefined ? undefined : integer(`${path}.width`, width, 1, MAX_VARIANT_SIDE);
    const h = height === undefined ? undefined : integer(`${path}.height`, height, 1, MAX_VARIANT_SIDE);
    const f = oneOf(`${path}.fit`, fit ?? 'inside', FITS);
    if ((f === 'cover' || f === 'contain' || f === 'fill') && (w === undefined || h === undefined)) {
      throw new ConfigError(`${path}.${w === undefined ? 'width' : 'height'}`, `set when \`fit\` is \`${f}\` (it needs a box)`, undefined);
    }
    variants.set(name, Object.freeze({ name, width: w, height: h, fit: f }));
  }
  return variants;
}

function resolvePerHost(input: unknown): ResolvedPerHost {
  if (input === undefined) {
    return Object.freeze({ concurrency: DEFAULTS.perHostConcurrency, intervalMs: undefined, intervalCap: undefined, initialConcurrency: DEFAULTS.perHostInitialConcurrency });
  }
  if (input === null || typeof input !== 'object') throw new ConfigError('perHost', 'an object `{ concurrency?, intervalMs?, intervalCap? }`', input);
  const { concurrency, intervalMs, intervalCap, initialConcurrency } = input as PerHostOptions;
  if ((intervalMs === undefined) !== (intervalCap === undefined)) {
    throw new ConfigError(intervalMs === undefined ? 'perHost.intervalMs' : 'perHost.intervalCap', 'set together with the other (a rate is requests per interval)', undefined);
  }
  const cap = integer('perHost.concurrency', concurrency ?? DEFAULTS.perHostConcurrency, 1, 1000);
  return Object.freeze({
    concurrency: cap,
    intervalMs: intervalMs === undefined ? undefined : integer('perHost.intervalMs', intervalMs, 1, 3_600_000),
    intervalCap: intervalCap === undefined ? undefined : integer('perHost.intervalCap', intervalCap, 1, 100_000),
    // Above the cap it means "no slow start": clamp rather than make users set both.
    initialConcurrency: Math.min(cap, integer('perHost.initialConcurrency', initialConcurrency ?? DEFAULTS.perHostInitialConcurrency, 1, 1000)),
  });
}

function resolveRetry(input: unknown): ResolvedRetry {
  const given = objectOption<RetryOptions>('retry', input, '`{ retries?, baseDelayMs?, maxDelayMs?, maxRetryAfterMs? }`');
  const d = DEFAULTS.retry;
  const baseDelayMs = integer('retry.baseDelayMs', given.baseDelayMs ?? d.baseDelayMs, 0, 600_000);
  const maxDelayMs = integer('retry.maxDelayMs', given.maxDelayMs ?? Math.max(d.maxDelayMs, baseDelayMs), 0, 3_600_000);
  if (maxDelayMs < baseDelayMs) throw new ConfigError('retry.maxDelayMs', `at least \`retry.baseDelayMs\` (${baseDelayMs})`, maxDelayMs);
  return Object.freeze({
    retries: integer('retry.retries', given.retries ?? d.retries, 0, 20),
    baseDelayMs,
    maxDelayMs,
    maxRetryAfterMs: integer('retry.maxRetryAfterMs', given.maxRetryAfterMs ?? d.maxRetryAfterMs, 0, 3_600_000),
  });
}

function resolveCircuitBreaker(input: unknown): ResolvedCircuitBreaker {
  const given = objectOption<CircuitBreakerOptions>('circuitBreaker', input, '`{ failures?, coolDownMs? }`');
  const d = DEFAULTS.circuitBreaker;
  return Object.freeze({
    failures: integer('circuitBreaker.failures', given.failures ?? d.failures, 1, 1_000_000),
    coolDownMs: integer('circuitBreaker.coolDownMs', given.coolDownMs ?? d.coolDownMs, 1, 3_600_000),
  });
}

function resolveNegativeCache(input: unknown): ResolvedNegativeCache {
  const given = objectOption<NegativeCacheOptions>('negativeCache', input, '`{ permanentTtlMs?, transientTtlMs?, maxEntries? }`');
  const d = DEFAULTS.negativeCache;
  return Object.freeze({
    permanentTtlMs: integer('negativeCache.permanentTtlMs', given.permanentTtlMs ?? d.permanentTtlMs, 0, 7 * 24 * 3_600_000),
    transientTtlMs: integer('negativeCache.transientTtlMs', given.transientTtlMs ?? d.transientTtlMs, 0, 7 * 24 * 3_600_000),
    maxEntries: integer('negativeCache.maxEntries', given.maxEntries ?? d.maxEntries, 0, 10_000_000),
  });
}

function resolveBackup(input: unknown): readonly Store[] {
  if (input === undefined) return Object.freeze([]);
  if (!Array.isArray(input)) throw new ConfigError('backup', 'an array of Stores', input);
  return Object.freeze(input.map((store, i) => assertStore(store, `backup[${i}]`)));
}

function objectOption<T>(option: string, input: unknown, shape: string): T {
  if (input === undefined) return {} as T;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new ConfigError(option, `an object ${shape}`, input);
  return input as T;
}

export function assertStore(store: unknown, option: string): Store {
  const methods = ['get', 'head', 'put', 'delete', 'list'] as const;
  if (store === null || typeof store !== 'object' || methods.some((m) => typeof (store as Record<string, unknown>)[m] !== 'function')) {
    throw new ConfigError(option, `a Store (an object with ${methods.map((m) => `\`${m}()\``).join(', ')}), e.g. \`new FileStore('./thumbs')\``, store);
  }
  return store as Store;
}

/** `host` or `host:port`, lower-cased; IPv6 literals in brackets. */
function normalizeAllowedHost(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, 'a `host` or `host:port` string', value);
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    throw new ConfigError(option, 'a `host` or `host:port` string', value);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(option, 'a `host` or `host:port` string (no scheme, path or credentials)', value);
  }
  // `new URL` drops a default port (`:80`); keep what the user wrote when it named one.
  const port = /:(\d+)$/.exec(value)?.[1];
  return port && !value.endsWith(']') ? `${url.hostname}:${Number(port)}` : url.hostname;
}

export function integer(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(option, 'a boolean', value);
  return value;
}

export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, 'a non-empty string', value);
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(option, `one of ${allowed.map((a) => `\`${a}\``).join(', ')}`, value);
  }
  return value as T;
}

export function hexColor(option: string, value: unknown): string {
  if (typeof value !== 'string' || !HEX_COLOR.test(value)) throw new ConfigError(option, 'a colour as `#rgb` or `#rrggbb`', value);
  return value.toLowerCase();
}

