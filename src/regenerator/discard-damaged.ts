/**
 * What happens to a damaged entry that nothing could replace (every source failed and no
 * surviving variant could stand in, so the caller got a placeholder, which is never stored):
 * it is deleted, once a second read confirms the damage.
 *
 * Why delete rather than leave it: the store's layout is served as-is by web servers and CDNs
 * (`<root>/<key>/<variant>.<ext>`, an S3 bucket behind a CDN), and they would keep handing the
 * damaged file to browsers — a broken image, cached for a year. Gone, it is a plain miss
 * everywhere: the web server's fallback (or `rethumb/http`) answers, `rethumb scan` lists it as
 * missing, and the next `get()` or `rebuild` regenerates it when a source comes back. Its bytes
 * are worth nothing to keep: a damaged entry is never served nor derived from.
 * Why the second read: a read that went wrong once (a glitch between store and process) must
 * never cost a good thumbnail whose source may be gone. A backup store is read-only: its
 * damaged entries are only skipped.
 */
import type { ResolvedVariant } from '../options.js';
import type { RegeneratorContext } from './context.js';
import { readEntry } from './read-stored.js';

/** Deletes each of `variants` of `key` from the primary store that is still damaged. Rejects only when `signal` aborts. */
export async function discardDamaged(ctx: RegeneratorContext, key: string, variants: readonly ResolvedVariant[], signal: AbortSignal): Promise<void> {
  const { store, format } = ctx.options;
  await Promise.all(
    variants.map(async (variant) => {
      // The first read was reported already; this one only confirms.
      const again = await readEntry(ctx, store, key, variant.name, signal, { report: false });
      if (again.state !== 'damaged') return;
      try {
        await store.delete({ key, variant: variant.name, format }, { signal });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        ctx.counters.storeErrors += 1;
        ctx.emit('storeError', { key, variant: variant.name, operation: 'delete', error });
      }
    }),
  );
}
