/**
 * Backup stores: read-only copies of the thumbnail tree (a restored old backup), consulted after
 * the primary store misses and before any fetch. A hit is served as `mirror` and written back
 * to the primary store (repair on read), so the next request is a plain `stored` hit. Backup
 * entries are checked like the primary's (`read-stored.ts`): a damaged one is skipped.
 */
import type { ResolvedVariant } from '../options.js';
import type { Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import { readStoredThumbnail } from './read-stored.js';
import { writeThumbnails, type ThumbnailWrites } from './regenerate-record.js';

export interface RestoreOptions {
  /** Accept entries a backup holds as degraded (false when the caller wants them replaced). */
  acceptDegraded: boolean;
  /** Adds what the primary store took of the copies (a rebuild reports refused writes). */
  writes?: ThumbnailWrites;
}

/**
 * The wanted variants found in the backups (first backup that holds a readable entry wins),
 * already written back to the primary store. Rejects only when `signal` aborts.
 */
export async function restoreFromBackups(
  ctx: RegeneratorContext,
  key: string,
  wanted: readonly ResolvedVariant[],
  signal: AbortSignal,
  options: RestoreOptions,
): Promise<Map<string, Thumbnail>> {
  const found = new Map<string, Thumbnail>();
  if (ctx.options.backup.length === 0) return found;
  const entries = await Promise.all(wanted.map((variant) => readBackups(ctx, key, variant, signal, options)));
  const degraded = new Map<string, Thumbnail>();
  for (const thumb of entries) {
    if (!thumb) continue;
    found.set(thumb.variant, thumb);
    if (thumb.degraded) degraded.set(thumb.variant, thumb);
  }
  // Keep each entry's degraded flag: a stand-in in the backup stays a stand-in in the primary.
  const real = new Map([...found].filter(([, thumb]) => !thumb.degraded));
  for (const [batch, isDegraded] of [[real, false], [degraded, true]] as const) {
    if (batch.size === 0) continue;
    const writes = await writeThumbnails(ctx, key, batch, isDegraded);
    if (options.writes) {
      options.writes.written += writes.written;
      options.writes.bytesWritten += writes.bytesWritten;
      options.writes.refused += writes.refused;
      options.writes.refusal ??= writes.refusal;
    }
  }
  ctx.counters.backupHits += found.size;
  return found;
}

async function readBackups(
  ctx: RegeneratorContext,
  key: string,
  variant: ResolvedVariant,
  signal: AbortSignal,
  options: RestoreOptions,
): Promise<Thumbnail | undefined> {
  // First backup with a whole entry wins; an unreadable or damaged one is a miss (reported, and
  // never copied: a backup is read-only) and the next is tried.
  for (const [index, store] of ctx.options.backup.entries()) {
    signal.throwIfAborted();
    const { thumb } = await readStoredThumbnail(ctx, store, key, variant, 'mirror', signal, { backup: index });
    if (thumb && (!thumb.degraded || options.acceptDegraded)) return thumb;
  }
  return undefined;
}
