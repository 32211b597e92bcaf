/**
 * Rebuild every variant of one record from its sources, in order: `url`, then mirrors. The
 * first source that yields an image wins: one download, one decode, every variant rendered,
 * every variant written to the store. Never throws for what a source does; rejects only when
 * `signal` aborts. A source that failed recently is skipped (negative cache); transient
 * download failures are retried within the record's retry budget.
 */
import { ErrorCodes, HttpStatusError, isRethumbError, RethumbError, type ErrorCode } from '../errors.js';
import { fetchSource, MAX_HOSTNAME_LENGTH } from '../fetching/fetch-source.js';
import { readImageHeader, renderVariants, type RenderedVariants } from '../imaging/render-variants.js';
import { sniffHead, sniffImage } from '../imaging/sniff-image.js';
import type { ByteHold } from '../scheduling/byte-budget.js';
import type { RecentFailure } from '../scheduling/failure-memory.js';
import { isRetryable, RetryBudget, withRetries } from '../scheduling/retry.js';
import type { Urgency } from '../scheduling/urgency.js';
import type { SourceFailure, Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import type { NormalizedRecord } from './normalize-record.js';
import { toSourceFailure } from './source-failure.js';

export interface Regeneration {
  /** `regenerated` from `url`, `mirror` from a mirror URL, `failed` when every source failed. */
  outcome: 'regenerated' | 'mirror' | 'failed';
  /** Every variant, when a source succeeded. */
  thumbnails: ReadonlyMap<string, Thumbnail>;
  /** Failures of the sources tried before the winner (or of all of them). */
  failures: readonly SourceFailure[];
  /** The first source's failure code, if any. */
  reason: ErrorCode | undefined;
  /** Bytes of the source body that won (0 when every source failed). */
  bytesDownloaded: number;
  /** The winning source's ThumbHash, base64 (undefined when every source failed). */
  thumbhash?: string;
  /**
   * Variants the winning source could not be rendered in (the encoder refused them although
   * the others were rendered and stored), by variant name. They fall back like missing ones.
   */
  variantFailures: ReadonlyMap<string, SourceFailure>;
  /** What the store took of `thumbnails` (a full disk, a read-only mount or a directory in the way refuses writes). */
  writes: ThumbnailWrites;
}

/** What `writeThumbnails` managed to store. */
export interface ThumbnailWrites {
  /** Variants written. */
  written: number;
  /** Bytes of the variants written. */
  bytesWritten: number;
  /** Variants the store refused (each also reported as a `storeError`). */
  refused: number;
  /** The first refusal's message, when there was one. */
  refusal?: string;
}

const NO_WRITES: ThumbnailWrites = Object.freeze({ written: 0, bytesWritten: 0, refused: 0 });

export interface RegenerateOptions {
  /** Fetch sources the negative cache remembers as failed (a rebuild that retries everything). */
  retryFailed?: boolean;
}

export async function regenerateRecord(
  ctx: RegeneratorContext,
  record: NormalizedRecord,
  urgency: Urgency,
  signal: AbortSignal,
  options: RegenerateOptions = {},
): Promise<Regeneration> {
  const failures: SourceFailure[] = [];
  const budget = new RetryBudget(ctx.options.retry.retries);
  for (const [index, url] of record.sources.entries()) {
    signal.throwIfAborted();
    const recent = options.retryFailed ? undefined : await ctx.negativeCache.recall(url);
    if (recent) {
      // Reported under the original failure's code, so `reason` stays meaningful.
      ctx.counters.recentlyFailed += 1;
      failures.push({ ...recent.failure, recentlyFailed: true });
      continue;
    }
    let rendered: RenderedVariants;
    let bytesDownloaded: number;
    let variantFailures: ReadonlyMap<string, SourceFailure>;
    try {
      ({ images: rendered, bytesDownloaded, variantFailures } = await renderSource(ctx, url, urgency, signal, budget, options.retryFailed === true));
    } catch (error) {
      // The caller's abort is not a source failure: stop and let the caller see it.
      if (signal.aborted) throw signal.reason;
      if (error instanceof FailedMeanwhile) {
        ctx.counters.recentlyFailed += 1;
        failures.push({ ...error.recent.failure, recentlyFailed: true });
        continue;
      }
      if (isRethumbError(error, ErrorCodes.ORIGIN_UNAVAILABLE)) ctx.counters.circuitRejections += 1;
      const failure = toSourceFailure(url, error, ErrorCodes.DECODE_FAILED);
      failures.push(failure);
      ctx.negativeCache.remember(url, failure);
      continue;
    }
    ctx.negativeCache.forget(url);
    const outcome = index === 0 ? 'regenerated' : 'mirror';
    const reason = failures[0]?.code;
    const thumbnails = new Map<string, Thumbnail>();
    for (const [name, image] of rendered) {
      thumbnails.set(name, {
        body: image.body,
        contentType: image.contentType,
        width: image.width,
        height: image.height,
        outcome,
        degraded: false,
        key: record.key,
        variant: name,
        ...(reason === undefined ? {} : { reason, failures: [...failures] }),
        ...(rendered.thumbhash === undefined ? {} : { thumbhash: rendered.thumbhash }),
      });
    }
    const writes = await writeThumbnails(ctx, record.key, thumbnails, false);
    return { outcome, thumbnails, failures, reason, bytesDownloaded, variantFailures, writes, ...(rendered.thumbhash === undefined ? {} : { thumbhash: rendered.thumbhash }) };
  }
  return { outcome: 'failed', thumbnails: new Map(), failures, reason: failures[0]?.code, bytesDownloaded: 0, variantFailures: new Map(), writes: NO_WRITES };
}

/**
 * Thrown in a download slot when the source is remembered as failed by the time the slot is
 * granted: no request is sent, and the record reports the remembered failure. Not a
 * `RethumbError`, so it says nothing about the host (`neutral`) and is never retried.
 */
class FailedMeanwhile extends Error {
  constructor(readonly recent: RecentFailure) {
    super(`${recent.failure.source} failed meanwhile`);
  }
}

/** Download (download stage), sniff while streaming, check the header, decode once and render every variant (render stage). */
async function renderSource(
  ctx: RegeneratorContext,
  url: string,
  urgency: Urgency,
  signal: AbortSignal,
  budget: RetryBudget,
  retryFailed: boolean,
): Promise<{ images: RenderedVariants; bytesDownloaded: number; variantFailures: ReadonlyMap<string, SourceFailure> }> {
  // The body counts in the download byte budget from its allocation until its render ends.
  const held = ctx.scheduler.holdSource();
  try {
    return await downloadAndRender(ctx, url, urgency, signal, budget, held, retryFailed);
  } finally {
    held.release();
  }
}

async function downloadAndRender(
  ctx: RegeneratorContext,
  url: string,
  urgency: Urgency,
  signal: AbortSignal,
  budget: RetryBudget,
  held: ByteHold,
  retryFailed: boolean,
): Promise<{ images: RenderedVariants; bytesDownloaded: number; variantFailures: ReadonlyMap<string, SourceFailure> }> {
  const { options } = ctx;
  const host = hostOf(url);
  // Each attempt takes its own download slot; the backoff between attempts holds none.
  const download = (): Promise<Awaited<ReturnType<typeof fetchSource>>> => ctx.scheduler.download(
    host,
    async () => {
      // The source may have failed for another record while this one waited for its slot (many
      // keys sharing one dead URL, a default image that is gone): then no request goes out.
      const recent = retryFailed ? undefined : await ctx.negativeCache.recall(url);
      if (recent) throw new FailedMeanwhile(recent);
      const started = performance.now();
      try {
        const source = await fetchSource(url, {
          dispatcher: ctx.agent,
          maxBytes: options.maxBytes,
          maxRedirects: options.maxRedirects,
          timeoutMs: options.timeoutMs,
          connectTimeoutMs: options.connectTimeoutMs,
          headersTimeoutMs: options.headersTimeoutMs,
          // The total deadline already bounds a body; a gap between chunks is not limited on its own.
          bodyTimeoutMs: options.timeoutMs,
          userAgent: options.userAgent,
          signal,
          // Refuse HTML error pages and other non-images on their first bytes, before the rest downloads.
          inspect: async (head, response) => {
            await sniffHead(head, { allowSvg: options.allowSvg, url: response.url, contentType: response.contentType });
          },
          onBodyBytes: (bytes) => held.set(bytes),
        });
        ctx.emit('fetch', { url, host, ok: true, code: undefined, status: 200, bytes: source.body.length, durationMs: performance.now() - started });
        return source;
      } catch (error) {
        // This attempt's body is garbage now; a retry starts from nothing.
        held.release();
        ctx.emit('fetch', {
          url,
          host,
          ok: false,
          code: error instanceof RethumbError ? error.code : undefined,
          status: error instanceof HttpStatusError ? error.status : undefined,
          bytes: 0,
          durationMs: performance.now() - started,
        });
        // Remembered before the slot goes back (the caller remembers it again, later): records
        // of the same URL waiting for this slot then find it when they ask (see FailedMeanwhile).
        if (!signal.aborted && !isRetryable(error)) ctx.negativeCache.remember(url, toSourceFailure(url, error, ErrorCodes.DECODE_FAILED));
        throw error;
      }
    },
    { priority: urgency.value, urgency, signal, url },
  );
  const fetched = await withRetries(download, {
    policy: options.retry,
    budget,
    signal,
    onRetry: ({ attempt, delayMs, error }) => {
      ctx.counters.retries += 1;
      ctx.emit('retry', {
        url,
        host,
        attempt,
        delayMs,
        code: error instanceof RethumbError ? error.code : undefined,
        status: error instanceof HttpStatusError ? error.status : undefined,
      });
    },
  });
  ctx.counters.fetches += 1;
  ctx.counters.bytesDownloaded += fetched.body.length;
  // The format's final word, from the whole body: the head cannot tell a TIFF whose directory follows its pixels.
  await sniffImage(fetched.body, { allowSvg: options.allowSvg, url: fetched.url, contentType: fetched.contentType });
  // Header first, outside the render stage: a pixel bomb is refused without taking a sharp slot.
  const header = await readImageHeader(fetched.body, { maxPixels: options.maxPixels, url: fetched.url });
  const variantFailures = new Map<string, SourceFailure>();
  const images = await ctx.scheduler.render(
    async () => {
      const rendered = await renderVariants(fetched.body, ctx.variants, {
        format: options.format,
        quality: options.quality,
        maxPixels: options.maxPixels,
        url: fetched.url,
        header,
        signal,
        onVariantError: (error) => variantFailures.set(error.variant, toSourceFailure(fetched.url, error, ErrorCodes.ENCODE_FAILED)),
      });
      ctx.counters.decodes += 1;
      return rendered;
    },
    // The priority as it is now: a get() may have joined this record since it was queued.
    { priority: urgency.value, signal, pixels: header.width * header.height },
  );
  return { images, bytesDownloaded: fetched.body.length, variantFailures };
}

/**
 * Write thumbnails to the store. A store failure is counted, not thrown: the caller still gets
 * its image, and the next request tries the write again.
 */
export async function writeThumbnails(
  ctx: RegeneratorContext,
  key: string,
  thumbnails: ReadonlyMap<string, Thumbnail>,
  degraded: boolean,
): Promise<ThumbnailWrites> {
  const { store, format } = ctx.options;
  const writes: ThumbnailWrites = { written: 0, bytesWritten: 0, refused: 0 };
  await Promise.all(
    [...thumbnails.values()].map(async (thumb) => {
      try {
        await store.put({ key, variant: thumb.variant, format }, { body: thumb.body, degraded });
        ctx.counters.bytesWritten += thumb.body.length;
        writes.written += 1;
        writes.bytesWritten += thumb.body.length;
      } catch (error) {
        ctx.counters.storeErrors += 1;
        writes.refused += 1;
        writes.refusal ??= error instanceof Error ? error.message : String(error);
        ctx.emit('storeError', { key, variant: thumb.variant, operation: 'put', error });
      }
    }),
  );
  return writes;
}

/** The URL's `host:port`, or '' when it has none that could be fetched (fetchSource then says why). */
function hostOf(url: string): string {
  try {
    const { host, hostname } = new URL(url);
    return hostname.length > MAX_HOSTNAME_LENGTH ? '' : host;
  } catch {
    return '';
  }
}
