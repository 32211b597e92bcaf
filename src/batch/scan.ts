/**
 * `scan`: what a store is missing for a manifest, without fetching anything — each record's
 * variants are checked with `head` only (or, with `verify`, read and checked for damage), many
 * records at once, memory flat (the manifest streams; nothing is kept per record). Uses nothing
 * but the `Store` interface, so it scans any store.
 */
import type { DamageKind } from '../integrity/image-damage.js';
import type { Store } from '../storage/store.js';
import { keyForRecord } from '../storage/store-key.js';
import type { OutputFormat } from '../types.js';
import { checkStored } from './check-stored.js';
import type { ManifestEntry, ManifestFormat, ManifestProblem } from './manifest-types.js';
import { readManifest } from './read-manifest.js';

/**
 * - `present`: every variant stored (and, with `verify`, whole), none degraded.
 * - `degraded`: every variant stored, some are derived stand-ins (a rebuild with `retryDegraded` replaces them).
 * - `missing`: some variant is absent (a rebuild fetches the record).
 * - `damaged`: with `verify`, some variant is stored but damaged (a rebuild of the `--list`, or
 *   with `verify`, fetches the record). Comes first: a record with a damaged and a missing variant is `damaged`.
 * - `invalid`: the record's key is unsafe (a rebuild reports it as a placeholder).
 */
export type ScanStatus = 'present' | 'degraded' | 'missing' | 'damaged' | 'invalid';

export interface ScanRecordResult {
  entry: ManifestEntry;
  key: string;
  status: ScanStatus;
  /** Variants absent. */
  missing: readonly string[];
  /** Variants stored but degraded. */
  degraded: readonly string[];
  /** Variants stored but damaged, with the kind of damage (only with `verify`). */
  damaged: ReadonlyArray<{ variant: string; damage: DamageKind }>;
}

export interface ScanOptions {
  /** A manifest path, `-` for stdin, or a byte stream. */
  manifest: string | AsyncIterable<Buffer | string>;
  manifestFormat?: ManifestFormat;
  store: Store;
  /** Variant names to look for. */
  variants: readonly string[];
  /** @default 'webp' */
  format?: OutputFormat;
  /**
   * Records checked at once. Each check is a few `stat`s on libuv's thread pool (with `verify`,
   * a read of each variant and a checksum pass over it).
   * @default 32 — enough to keep the pool busy, few enough to leave it room; with `verify`, at
   * most 32 records' bytes are held at once.
   */
  concurrency?: number;
  /**
   * Read every variant and check it as `get()` does (structure, the checksum sealed into it, and
   * the header of an entry written before seals), instead of only asking whether it exists.
   * Damaged records get the status `damaged`.
   * @default false
   */
  verify?: boolean;
  /** With `verify` (implied), decode every variant in full too: slower, and finds nothing a sealed entry's checksum misses. @default false */
  decode?: boolean;
  /** Largest width × height a stored entry may declare (with `verify`). @default 100_000_000 */
  maxPixels?: number;
  signal?: AbortSignal;
  /** Called for each record; a returned promise is awaited (back-pressure for a slow writer). */
  onRecord?: (result: ScanRecordResult) => void | Promise<void>;
  onProblem?: (problem: ManifestProblem) => void;
}

export interface ScanReport {
  /** Records scanned. */
  total: number;
  counts: Record<ScanStatus, number>;
  /** Variant files absent, over every record. */
  variantsMissing: number;
  variantsDegraded: number;
  /** Variant files damaged (with `verify`). */
  variantsDamaged: number;
  /** Variant files whole but written before seals, so checked by structure and header only (with `verify`). */
  variantsUnsealed: number;
  /** Whether entries were read and checked (`verify`), and decoded (`decode`). */
  verified: boolean;
  decoded: boolean;
  malformedLines: number;
  durationMs: number;
  recordsPerSecond: number;
}

export async function scanManifest(options: ScanOptions): Promise<ScanReport> {
  const { store, variants, signal } = options;
  const format = options.format ?? 'webp';
  const concurrency = options.concurrency ?? 32;
  const started = performance.now();
  const decode = options.decode === true;
  const verify = decode || options.verify === true;
  const check = { verify, decode, ...(signal ? { signal } : {}), ...(options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels }) };
  const counts: Record<ScanStatus, number> = { present: 0, degraded: 0, missing: 0, damaged: 0, invalid: 0 };
  let variantsMissing = 0;
  let variantsDegraded = 0;
  let variantsDamaged = 0;
  let variantsUnsealed = 0;
  let malformedLines = 0;

  // Checks run `concurrency` at once, but each result waits for the one before it (`prior`), so
  // `onRecord` sees records in manifest order: a `--list` is stable from run to run.
  const scanOne = async (entry: ManifestEntry, prior: Promise<void>): Promise<void> => {
    let key: string;
    try {
      key = keyForRecord(entry.record);
    } catch {
      counts.invalid += 1;
      await prior;
      await options.onRecord?.({ entry, key: entry.record.key ?? '', status: 'invalid', missing: variants, degraded: [], damaged: [] });
      return;
    }
    const state = await checkStored(store, key, variants, format, check);
    const status: ScanStatus =
      state.damaged.length > 0 ? 'damaged' : state.missing.length > 0 ? 'missing' : state.degraded.length > 0 ? 'degraded' : 'present';
    counts[status] += 1;
    variantsMissing += state.missing.length;
    variantsDegraded += state.degraded.length;
    variantsDamaged += state.damaged.length;
    variantsUnsealed += state.unsealed.length;
    await prior;
    await options.onRecord?.({ entry, key, status, missing: state.missing, degraded: state.degraded, damaged: state.damaged });
  };

  const running = new Set<Promise<void>>();
  let failure: unknown;
  const manifest = readManifest(options.manifest, {
    ...(options.manifestFormat ? { format: options.manifestFormat } : {}),
    ...(signal ? { signal } : {}),
    onProblem: (problem) => {
      malformedLines += 1;
      options.onProblem?.(problem);
    },
  });
  let emitted: Promise<void> = Promise.resolve();
  for await (const entry of manifest) {
    const emitting = scanOne(entry, emitted);
    // A failure is reported once, by its own task; the next record only waits for its turn.
    emitted = emitting.catch(() => undefined);
    const task: Promise<void> = emitting.then(
      () => void running.delete(task),
      (error: unknown) => {
        running.delete(task);
        failure ??= error;
      },
    );
    running.add(task);
    if (running.size >= concurrency) await Promise.race(running);
    if (failure !== undefined) break;
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  const total = counts.present + counts.degraded + counts.missing + counts.damaged + counts.invalid;
  const durationMs = performance.now() - started;
  return {
    total,
    counts,
    variantsMissing,
    variantsDegraded,
    variantsDamaged,
    variantsUnsealed,
    verified: verify,
    decoded: decode,
    malformedLines,
    durationMs,
    recordsPerSecond: durationMs > 0 ? (total / durationMs) * 1000 : 0,
  };
}
