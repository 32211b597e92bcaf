/**
 * Folds per-record results into a rebuild report. One implementation for every place a report
 * is made — `rebuild()`, the command line (across resumed runs), and BullMQ workers combined —
 * so the same records always give the same report.
 */
import type { RebuildProgress, RebuildReport, RecordResult, RecordOutcome } from './rebuild-types.js';
import { failuresBytes, OBJECT_OVERHEAD_BYTES, valueBytes } from './retained-bytes.js';

/** Default of `maxReportedFallbackBytes`. */
export const DEFAULT_REPORTED_FALLBACK_BYTES = 16 * 1024 * 1024;

export interface RebuildTallyOptions {
  /**
   * Fallen-back records kept in `fallbacks`; the rest are counted in `fallbacksDropped`.
   * @default 10_000
   */
  maxReportedFallbacks?: number;
  /**
   * Bytes the kept fallbacks may hold (estimated: each record as given, its key and failures);
   * the rest are counted in `fallbacksDropped`.
   * @default 16_777_216 (16 MiB) — 10 000 typical fallbacks take a few MB, but a record's URLs
   * (8 KB each, up to 9 of them) and whatever else a manifest line carries are kept whole.
   */
  maxReportedFallbackBytes?: number;
  /** When the run started, as `performance.now()`. @default now */
  startedAt?: number;
}

export class RebuildTally {
  readonly #maxReported: number;
  readonly #maxReportedBytes: number;
  readonly #startedAt: number;
  readonly #counts: Record<RecordOutcome, number> = { stored: 0, regenerated: 0, mirror: 0, derived: 0, placeholder: 0 };
  readonly #fallbacks: RecordResult[] = [];
  #done = 0;
  #dropped = 0;
  #reportedBytes = 0;
  #bytesDownloaded = 0;
  #bytesWritten = 0;

  constructor(options: RebuildTallyOptions = {}) {
    this.#maxReported = options.maxReportedFallbacks ?? 10_000;
    this.#maxReportedBytes = options.maxReportedFallbackBytes ?? DEFAULT_REPORTED_FALLBACK_BYTES;
    this.#startedAt = options.startedAt ?? performance.now();
  }

  add(result: RecordResult): void {
    this.#done += 1;
    this.#counts[result.outcome] += 1;
    this.#bytesDownloaded += result.bytesDownloaded;
    this.#bytesWritten += result.bytesWritten;
    if (result.outcome === 'derived' || result.outcome === 'placeholder') {
      const room = this.#maxReportedBytes - this.#reportedBytes;
      const bytes = this.#fallbacks.length < this.#maxReported ? resultBytes(result, room) : Number.POSITIVE_INFINITY;
      if (bytes <= room) {
        this.#fallbacks.push(result);
        this.#reportedBytes += bytes;
      } else this.#dropped += 1;
    }
  }

  progress(): RebuildProgress {
    return {
      done: this.#done,
      counts: { ...this.#counts },
      bytesDownloaded: this.#bytesDownloaded,
      bytesWritten: this.#bytesWritten,
      elapsedMs: performance.now() - this.#startedAt,
    };
  }

  report(aborted: boolean): RebuildReport {
    const progress = this.progress();
    return { ...progress, total: progress.done, fallbacks: [...this.#fallbacks], fallbacksDropped: this.#dropped, durationMs: progress.elapsedMs, aborted };
  }
}

/** Bytes a kept result holds, counted until `limit` is passed. */
function resultBytes(result: RecordResult, limit: number): number {
  const own = OBJECT_OVERHEAD_BYTES + 2 * result.key.length + failuresBytes(result.failures);
  return own + valueBytes(result.record, Math.max(0, limit - own));
}
