/**
 * `scan`: what a store is missing for a manifest, without fetching anything — each record's
 * variants are checked with `head` only, many records at once, memory flat (the manifest
 * streams; nothing is kept per record).
 */
import type { Store } from '../storage/store.js';
import { keyForRecord } from '../storage/store-key.js';
import type { OutputFormat } from '../types.js';
import { checkStored } from './check-stored.js';
import type { ManifestEntry, ManifestFormat, ManifestProblem } from './manifest-types.js';
import { readManifest } from './read-manifest.js';

/**
 * - `present`: every variant stored, none degraded.
 * - `degraded`: every variant stored, some are derived stand-ins (a rebuild with `retryDegraded` replaces them).
 * - `missing`: some variant is absent (a rebuild fetches the record).
 * - `invalid`: the record's key is unsafe (a rebuild reports it as a placeholder).
 */
export type ScanStatus = 'present' | 'degraded' | 'missing' | 'invalid';

export interface ScanRecordResult {
  entry: ManifestEntry;
  key: string;
  status: ScanStatus;
  /** Variants absent. */
  missing: readonly string[];
  /** Variants stored but degraded. */
  degraded: readonly string[];
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
   * Records checked at once. Each check is a few `stat`s on libuv's thread pool.
   * @default 32 — enough to keep the pool busy, few enough to leave it room.
   */
  concurrency?: number;
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
  malformedLines: number;
  durationMs: number;
  recordsPerSecond: number;
}

export async function scanManifest(options: ScanOptions): Promise<ScanReport> {
  const { store, variants, signal } = options;
  const format = options.format ?? 'webp';
  const concurrency = options.concurrency ?? 32;
  const started = performance.now();
  const counts: Record<ScanStatus, number> = { present: 0, degraded: 0, missing: 0, invalid: 0 };
  let variantsMissing = 0;
  let variantsDegraded = 0;
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
      await options.onRecord?.({ entry, key: entry.record.key ?? '', status: 'invalid', missing: variants, degraded: [] });
      return;
    }
    const state = await checkStored(store, key, variants, format, signal);
    const status: ScanStatus = state.missing.length > 0 ? 'missing' : state.degraded.length > 0 ? 'degraded' : 'present';
    counts[status] += 1;
    variantsMissing += state.missing.length;
    variantsDegraded += state.degraded.length;
    await prior;
    await options.onRecord?.({ entry, key, status, missing: state.missing, degraded: state.degraded });
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
  const total = counts.present + counts.degraded + counts.missing + counts.invalid;
  const durationMs = performance.now() - started;
  return { total, counts, variantsMissing, variantsDegraded, malformedLines, durationMs, recordsPerSecond: durationMs > 0 ? (total / durationMs) * 1000 : 0 };
}
