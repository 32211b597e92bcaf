/**
 * One store entry, read and checked. Shared by the primary store (outcome `stored`), the backup
 * stores (outcome `mirror`), the surviving variant a stand-in is derived from, and `rebuild`'s
 * `verify`: all of them use an entry only when it is whole, and treat anything else as a miss,
 * counted and reported as a `storeError` — a damaged entry with `RETHUMB_STORE_CORRUPT` and the
 * kind of damage.
 *
 * "Whole" means `inspectStoredImage()` passes: the structure, then the checksum sealed into
 * every thumbnail rethumb writes (a sealed entry needs no decoder: the seal holds its size);
 * an entry without a seal (written before seals existed, or a backup made by another tool) also
 * has its header read by sharp, as every entry had before.
 */
import { StoreCorruptError } from '../errors.js';
import type { DamageKind } from '../integrity/image-damage.js';
import { sealImage } from '../integrity/seal-image.js';
import { inspectStoredImage } from '../imaging/inspect-stored.js';
import { readImageHeader } from '../imaging/render-variants.js';
import type { ResolvedVariant } from '../options.js';
import type { Store } from '../storage/store.js';
import { FORMAT_CONTENT_TYPES, type OutputFormat, type Outcome, type Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import type { StoreErrorEvent } from './events.js';

/** A whole entry: its bytes, flag and size. `sealed` is false for entries written before seals. */
export interface WholeEntry {
  body: Buffer;
  degraded: boolean;
  width: number;
  height: number;
  sealed: boolean;
}

/** What reading one entry found. `failed`: the store itself failed (already reported). */
export type EntryRead = { state: 'whole'; entry: WholeEntry } | { state: 'absent' } | { state: 'damaged'; damage: DamageKind } | { state: 'failed' };

export interface ReadEntryOptions {
  /** Which backup store this is (`backup[i]`), for the event; undefined for the primary store. */
  backup?: number;
  /** Report a damaged or failed read as a `storeError` and count it (false for a second look at an entry already reported). @default true */
  report?: boolean;
}

/**
 * Reads the entry of `key` at `variant` from `store` and checks it. Rejects only when `signal`
 * aborts.
 */
export async function readEntry(
  ctx: RegeneratorContext,
  store: Store,
  key: string,
  variant: string,
  signal: AbortSignal,
  options: ReadEntryOptions = {},
): Promise<EntryRead> {
  const report = options.report ?? true;
  const backup = options.backup === undefined ? {} : { backup: options.backup };
  let stored;
  try {
    stored = await store.get({ key, variant, format: ctx.options.format }, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (report) reportError(ctx, { key, variant, operation: 'get', error, ...backup });
    return { state: 'failed' };
  }
  if (!stored) return { state: 'absent' };
  try {
    const size = await checkedSize(ctx, key, variant, stored.body);
    return { state: 'whole', entry: { body: stored.body, degraded: stored.degraded, ...size } };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (report) reportError(ctx, { key, variant, operation: 'get', error, ...backup, ...(error instanceof StoreCorruptError ? { damage: error.damage } : {}) });
    return error instanceof StoreCorruptError ? { state: 'damaged', damage: error.damage } : { state: 'failed' };
  }
}

/** The result of `readStoredThumbnail`: the thumbnail, or why there is none. */
export interface StoredThumbnailRead {
  thumb: Thumbnail | undefined;
  /** Set when the entry was there but damaged (the caller may have to replace or remove it). */
  damaged: DamageKind | undefined;
}

/**
 * The entry of `key` at `variant` in `store` as a thumbnail, or none when absent, unreadable or
 * damaged. A backup's entry written before seals is sealed on its way out: it is about to be
 * written to the primary store, which from then on holds only sealed entries.
 * Rejects only when `signal` aborts.
 */
export async function readStoredThumbnail(
  ctx: RegeneratorContext,
  store: Store,
  key: string,
  variant: ResolvedVariant,
  outcome: Extract<Outcome, 'stored' | 'mirror'>,
  signal: AbortSignal,
  options: ReadEntryOptions = {},
): Promise<StoredThumbnailRead> {
  const { format } = ctx.options;
  const read = await readEntry(ctx, store, key, variant.name, signal, options);
  if (read.state !== 'whole') return { thumb: undefined, damaged: read.state === 'damaged' ? read.damage : undefined };
  const { entry } = read;
  const body = outcome === 'mirror' && !entry.sealed && ctx.options.verifyStored ? sealedOrAsIs(entry.body, format, entry) : entry.body;
  return {
    thumb: {
      body,
      contentType: FORMAT_CONTENT_TYPES[format],
      width: entry.width,
      height: entry.height,
      outcome,
      degraded: entry.degraded,
      key,
      variant: variant.name,
    },
    damaged: undefined,
  };
}

/**
 * The size of a stored body, once it is known to be whole (`inspectStoredImage`); rejects with
 * `StoreCorruptError` when it is not. With `verifyStored: false`, only the header is read (the
 * behaviour before seals).
 */
async function checkedSize(ctx: RegeneratorContext, key: string, variant: string, body: Buffer): Promise<{ width: number; height: number; sealed: boolean }> {
  const { format, maxPixels, verifyStored } = ctx.options;
  if (!verifyStored) {
    const header = await readImageHeader(body, { maxPixels });
    return { width: header.width, height: header.height, sealed: false };
  }
  const check = await inspectStoredImage(body, format, { maxPixels });
  if (!check.ok) throw new StoreCorruptError(key, variant, check.damage.kind, check.damage.detail, check.cause);
  return check;
}

/** `body` sealed; as it is if it cannot be (it passed every check: serving it beats failing). */
function sealedOrAsIs(body: Buffer, format: OutputFormat, size: { width: number; height: number }): Buffer {
  try {
    return sealImage(body, format, size);
  } catch {
    return body;
  }
}

function reportError(ctx: RegeneratorContext, event: StoreErrorEvent): void {
  ctx.counters.storeErrors += 1;
  if (event.damage !== undefined) ctx.counters.corruptEntries += 1;
  ctx.emit('storeError', event);
}
