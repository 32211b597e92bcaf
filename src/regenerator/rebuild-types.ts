/** The public shapes of `rebuild()`: its options, per-record results, progress and report. */
import type { ErrorCode } from '../errors.js';
import type { Outcome, SourceFailure, ThumbRecord } from '../types.js';

export interface RebuildOptions {
  /**
   * Skip records whose every variant is already in the store.
   * @default true — a rebuild after an outage should only fill the holes.
   */
  onlyMissing?: boolean;
  /**
   * With `onlyMissing`, treat degraded (derived) entries as missing, so records whose source
   * came back get real thumbnails again.
   * @default false
   */
  retryDegraded?: boolean;
  /**
   * Fetch sources even when the negative cache remembers them as failed (a rebuild that
   * retries everything).
   * @default true when `retryDegraded` is set or `onlyMissing` is false — a run that asks to
   * replace stand-ins, or to rebuild everything, expects sources may be back; false otherwise.
   */
  retryFailed?: boolean;
  /**
   * With `onlyMissing`, read and check every stored entry of each record (structure and sealed
   * checksum, as `get()` does) instead of only asking whether it exists, so damaged entries are
   * rebuilt in the same pass (each reported as a `storeError` with `RETHUMB_STORE_CORRUPT`). A
   * function decides per record (`runBatch` verifies the records a `scan --verify` list marks
   * damaged). Costs a read of every entry instead of a `stat`.
   * @default false
   */
  verify?: boolean | ((record: ThumbRecord) => boolean);
  /** Stop taking records; in-flight records are abandoned and not counted. The report says `aborted`. */
  signal?: AbortSignal;
  /** Called after each record with running totals. */
  onProgress?: (progress: RebuildProgress) => void;
  /** Called once per record with its result, fallbacks included (the report keeps only the first `maxReportedFallbacks`). */
  onRecord?: (result: RecordResult) => void;
  /**
   * Fallen-back records kept in the report's `fallbacks`; the rest are counted in `fallbacksDropped`.
   * @default 10_000 — enough to read; for a complete list, write them from `onRecord`.
   */
  maxReportedFallbacks?: number;
  /**
   * Bytes the report's `fallbacks` may hold (estimated: each record as given, with its failures);
   * the rest are counted in `fallbacksDropped`.
   * @default 16_777_216 (16 MiB) — records carry URLs of up to 8 KB and whatever else their
   * manifest line held: bounded by count alone, 10 000 of them could hold gigabytes.
   */
  maxReportedFallbackBytes?: number;
}

/** How a rebuild ended for one record (`memory` does not occur: rebuilds read the store). */
export type RecordOutcome = Exclude<Outcome, 'memory'>;

/** What happened to one record in a rebuild. `stored` means every variant was already there. */
export interface RecordResult {
  /** The record as given (for re-feeding as a manifest). */
  record: ThumbRecord;
  key: string;
  outcome: RecordOutcome;
  reason?: ErrorCode;
  failures?: readonly SourceFailure[];
  /** Variants written to the store for this record. */
  written: number;
  /** Bytes of the source body downloaded for this record. */
  bytesDownloaded: number;
  /** Bytes of thumbnails written for this record. */
  bytesWritten: number;
  /**
   * Set when the store refused to write some of the variants rendered for this record (a full
   * disk, a read-only mount, a directory in the way; each also a `storeError` event): how many,
   * and the first refusal's message. The record's thumbnails are not (all) stored, whatever its
   * outcome says; `runBatch` does not count it as done.
   */
  unstored?: { variants: number; message: string };
  /** The source's ThumbHash, base64, when this record was rendered from a source (`regenerated`, `mirror`). */
  thumbhash?: string;
  /**
   * For `stored`: true when a stored variant is a degraded stand-in (derived from a surviving
   * larger one); a rebuild with `retryDegraded` replaces it once the source is back.
   */
  degraded?: boolean;
}

export interface RebuildProgress {
  /** Records finished so far. */
  done: number;
  counts: Readonly<Record<RecordOutcome, number>>;
  bytesDownloaded: number;
  bytesWritten: number;
  elapsedMs: number;
}

export interface RebuildReport extends RebuildProgress {
  /** Records finished (same as `done`). */
  total: number;
  /** Records that ended `derived` or `placeholder`, with reasons (the first ones, within `maxReportedFallbacks` and `maxReportedFallbackBytes`). */
  fallbacks: RecordResult[];
  fallbacksDropped: number;
  durationMs: number;
  /** True when `signal` aborted the run before the input was exhausted. */
  aborted: boolean;
}
