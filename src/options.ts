/**
 * Every option of `createRegenerator()`, its default and the reason for that default, in one
 * place. `resolveOptions()` merges once, validates once and freezes; layers receive the
 * resolved object and never re-read user input.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';
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
   */
  perHost?: PerHostOptions;
  /**
   * Images decoded and encoded by sharp at once. Downloads and rendering are separate stages.
   * @default min(cores + 1, UV_THREADPOOL_SIZE − 1), at least 1 — one image more than cores,
   * because a render spends part of its time between sharp calls (callbacks, thread-pool hops)
   * and a core would idle meanwhile (+7 % images/s on 2 cores, `npm run bench`); and sharp, `fs`
   * and `dns.lookup` share libuv's thread pool (4 threads unless `UV_THREADPOOL_SIZE` says
   * otherwise), so one thread is left for the file system and DNS lest a full pool stall downloads.
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
}

export interface PerHostOptions {
  /** Downloads from one host at once. @default 6 */
  concurrency?: number;
  /** Length of a rate window in ms (with `intervalCap`). @default undefined (no rate limit) */
  intervalMs?: number;
  /** Requests started per `intervalMs` (with `intervalMs`). @default undefined */
  intervalCap?: number;
}

export interface ResolvedPerHost {
  readonly concurrency: number;
  readonly intervalMs: number | undefined;
  readonly intervalCap: number | undefined;
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
}

export const VERSION = '0.1.0';

/** Defaults of every optional option (quality and renderConcurrency depend on others). */
export const DEFAULTS = Object.freeze({
  format: 'webp' as OutputFormat,
  concurrency: 20,
  perHostConcurrency: 6,
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

/** The default number of images sharp works on at once. */
export function defaultRenderConcurrency(): number {
  const pool = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10);
  const threads = Number.isInteger(pool) && pool > 0 ? pool : 4;
  return Math.max(1, Math.min(availableParallelism() + 1, threads - 1));
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
  return Object.freeze({
    store,
    variants,
    format,
    quality,
    concurrency: integer('concurrency', options.concurrency ?? DEFAULTS.concurrency, 1, 1000),
    perHost: resolvePerHost(options.perHost),
    renderConcurrency: integer('renderConcurrency', options.renderConcurrency ?? defaultRenderConcurrency(), 1, 256),
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
  });
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
  if (input === undefined) return Object.freeze({ concurrency: DEFAULTS.perHostConcurrency, intervalMs: undefined, intervalCap: undefined });
  if (input === null || typeof input !== 'object') throw new ConfigError('perHost', 'an object `{ concurrency?, intervalMs?, intervalCap? }`', input);
  const { concurrency, intervalMs, intervalCap } = input as PerHostOptions;
  if ((intervalMs === undefined) !== (intervalCap === undefined)) {
    throw new ConfigError(intervalMs === undefined ? 'perHost.intervalMs' : 'perHost.intervalCap', 'set together with the other (a rate is requests per interval)', undefined);
  }
  return Object.freeze({
    concurrency: integer('perHost.concurrency', concurrency ?? DEFAULTS.perHostConcurrency, 1, 1000),
    intervalMs: intervalMs === undefined ? undefined : integer('perHost.intervalMs', intervalMs, 1, 3_600_000),
    intervalCap: intervalCap === undefined ? undefined : integer('perHost.intervalCap', intervalCap, 1, 100_000),
  });
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

