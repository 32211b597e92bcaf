/** The shapes manifest readers yield and report. */
import type { ThumbRecord } from '../types.js';

/** One record of a manifest, with where it came from. */
export interface ManifestEntry {
  /** 0-based position among the manifest's records (malformed lines take none): stable across runs of one manifest. */
  index: number;
  /** 1-based line of the manifest where the record starts. */
  line: number;
  record: ThumbRecord;
  /**
   * True when the line comes from a `scan --verify` list and marks damaged variants: their files
   * exist, so a rebuild reads and checks this record's entries rather than asking whether they exist.
   */
  verify?: boolean;
}

/** A manifest line that was skipped, and why. */
export interface ManifestProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

/** `jsonl` (one JSON object a line) or `csv` (a header row naming `url`, `key`, …). */
export type ManifestFormat = 'jsonl' | 'csv';

export interface ReadManifestOptions {
  /** @default detected from the file extension, else from the first non-blank byte (`{` means JSON Lines) */
  format?: ManifestFormat;
  /** Called for each malformed line, which is then skipped. @default ignore */
  onProblem?: (problem: ManifestProblem) => void;
  /**
   * Longest line, in bytes: a longer one is reported and skipped, never buffered whole.
   * @default 1_048_576 — a record is a few hundred bytes; a megabyte line is a broken file.
   */
  maxLineBytes?: number;
  signal?: AbortSignal;
}
