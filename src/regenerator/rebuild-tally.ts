/**
 * Folds per-record results into a rebuild report. One implementation for every place a report
 * is made — `rebuild()`, the command line (across resumed runs), and BullMQ workers combined —
 * so the same records always give the same report.
 */
import type { RebuildProgress, RebuildReport, RecordResult, RecordOutcome } from './rebuild-types.js';

export interface RebuildTallyOptions {
  /**
   * Fallen-back records kept in `fallbacks`; the rest are counted in `fallbacksDropped`.
   * @default 10_000
   */
  maxReportedFallbacks?: number;
  /** When the run started, as `performance.now()`. @default now */
  startedAt?: number;
}

export class RebuildTally {
  readonly #maxReported: number;
  readonly #startedAt: number;
  readonly #counts: Record<RecordOutcome, number> = { stored: 0, regenerated: 0, mirror: 0, derived: 0, placeholder: 0 };
  readonly #fallbacks: RecordResult[] = [];
  #done = 0;
  #dropped = 0;
  #bytesDownloaded = 0;
  #bytesWritten = 0;

  constructor(options: RebuildTallyOptions = {}) {
    this.#maxReported = options.maxReportedFallbacks ?? 10_000;
    this.#startedAt = options.startedAt ?? performance.now();
  }

  add(result: RecordResult): void {
    this.#done += 1;
    this.#counts[result.outcome] += 1;
    this.#bytesDownloaded += result.bytesDownloaded;
    this.#bytesWritten += result.bytesWritten;
    if (result.outcome === 'derived' || result.outcome === 'placeholder') {
      if (this.#fallbacks.length < this.#maxReported) this.#fallbacks.push(result);
      else this.#dropped += 1;
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
