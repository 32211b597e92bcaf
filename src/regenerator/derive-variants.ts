/**
 * When every source failed: rebuild the wanted variants from the largest variant that survives
 * in the store (the print shop lost its originals but kept its previews). The result is marked
 * degraded in the store so a later rebuild replaces it once a source answers again.
 */
import { ErrorCodes, type ErrorCode } from '../errors.js';
import { renderVariants } from '../imaging/render-variants.js';
import type { ResolvedVariant } from '../options.js';
import type { SourceFailure, Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import { readEntry } from './read-stored.js';
import { writeThumbnails } from './regenerate-record.js';

export interface DeriveFailure {
  reason: ErrorCode | undefined;
  failures: readonly SourceFailure[];
}

/**
 * The wanted variants derived from the largest surviving other variant, or an empty map when
 * none survives (or it cannot be decoded). Rejects only when `signal` aborts.
 */
export async function deriveVariants(
  ctx: RegeneratorContext,
  key: string,
  wanted: readonly ResolvedVariant[],
  why: DeriveFailure,
  priority: number,
  signal: AbortSignal,
  /** Write the result to the store (marked degraded). A deadline stand-in is not written: the real thumbnail is on its way and must not be overwritten by it. */
  persist = true,
): Promise<Map<string, Thumbnail>> {
  const { store, format, quality, maxPixels } = ctx.options;
  const wantedNames = new Set(wanted.map((v) => v.name));
  const candidates = ctx.variants.filter((v) => !wantedNames.has(v.name)).sort((a, b) => nominalArea(b) - nominalArea(a));
  for (const candidate of candidates) {
    signal.throwIfAborted();
    // Never from a damaged entry: it is reported and the next largest is tried.
    const read = await readEntry(ctx, store, key, candidate.name, signal);
    if (read.state !== 'whole') continue;
    const stored = read.entry;
    try {
      const header = { width: stored.width, height: stored.height, format: format === 'avif' ? 'heif' : format, pages: 1 };
      const images = await ctx.scheduler.render(
        () => renderVariants(stored.body, wanted, { format, quality, maxPixels, header, signal }),
        { priority, signal, pixels: header.width * header.height },
      );
      const thumbnails = new Map<string, Thumbnail>();
      for (const [name, image] of images) {
        thumbnails.set(name, {
          body: image.body,
          contentType: image.contentType,
          width: image.width,
          height: image.height,
          outcome: 'derived',
          degraded: true,
          key,
          variant: name,
          reason: why.reason ?? ErrorCodes.DECODE_FAILED,
          failures: why.failures,
        });
      }
      if (persist) await writeThumbnails(ctx, key, thumbnails, true);
      return thumbnails;
    } catch {
      // A variant that reads whole but does not render is no reason to give up: try the next largest.
      if (signal.aborted) throw signal.reason;
    }
  }
  return new Map();
}

/** Box area used to rank variants; a one-sided variant counts as square. */
function nominalArea(variant: ResolvedVariant): number {
  const w = variant.width ?? variant.height ?? 0;
  const h = variant.height ?? variant.width ?? 0;
  return w * h;
}
