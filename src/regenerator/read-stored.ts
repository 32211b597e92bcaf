/**
 * One store entry as a thumbnail. Shared by the primary store (outcome `stored`) and the backup
 * stores (outcome `mirror`): both serve only an entry whose header reads as an image, and both
 * treat an unreadable entry as a miss, counted and reported as a `storeError`.
 */
import { readImageHeader } from '../imaging/render-variants.js';
import type { ResolvedVariant } from '../options.js';
import type { Store } from '../storage/store.js';
import { FORMAT_CONTENT_TYPES, type Outcome, type Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';

/**
 * The entry of `key` at `variant` in `store`, or undefined when absent, unreadable or corrupt.
 * Rejects only when `signal` aborts.
 */
export async function readStoredThumbnail(
  ctx: RegeneratorContext,
  store: Store,
  key: string,
  variant: ResolvedVariant,
  outcome: Extract<Outcome, 'stored' | 'mirror'>,
  signal: AbortSignal,
): Promise<Thumbnail | undefined> {
  const { format, maxPixels } = ctx.options;
  try {
    const stored = await store.get({ key, variant: variant.name, format }, { signal });
    if (!stored) return undefined;
    // A damaged file must not be served as a thumbnail: only a readable image is.
    const header = await readImageHeader(stored.body, { maxPixels });
    return {
      body: stored.body,
      contentType: FORMAT_CONTENT_TYPES[format],
      width: header.width,
      height: header.height,
      outcome,
      degraded: stored.degraded,
      key,
      variant: variant.name,
    };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    ctx.counters.storeErrors += 1;
    ctx.emit('storeError', { key, variant: variant.name, operation: 'get', error });
    return undefined;
  }
}
