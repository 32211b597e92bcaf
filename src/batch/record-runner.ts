/**
 * What turns a batch job's records into results: a regenerator in this process, or worker
 * processes (`ProcessPool`). `runBatch` reads the manifest, journals and tallies either way.
 */
import type { Regenerator } from '../regenerator/regenerator.js';
import type { RebuildFlags } from '../regenerator/rebuild.js';
import type { RecordResult } from '../regenerator/rebuild-types.js';
import type { ThumbRecord } from '../types.js';

export interface RecordRunOptions {
  /** Called once per finished record, with the very record object the input yielded. */
  onRecord: (result: RecordResult) => void;
  /** Whether a record's stored entries are read and checked rather than only stat'ed (`rebuild()`'s `verify`). @default none are */
  verify?: (record: ThumbRecord) => boolean;
  /** Abandon records in flight (they are not reported). */
  signal?: AbortSignal;
}

export interface RecordRunner {
  /** Variant names, in configuration order. */
  readonly variants: readonly string[];
  /** Rebuild every record of `records`; resolves once each is reported or abandoned. */
  rebuild(records: AsyncIterable<ThumbRecord>, options: RecordRunOptions): Promise<void>;
  /** Release everything (the regenerator, the worker processes). */
  close(): Promise<void>;
}

/** How a job treats what is already stored, but the per-record `verify` (see `RecordRunOptions`). */
export type JobFlags = Omit<Required<RebuildFlags>, 'verify'>;

/** `regen.rebuild()` as a runner: the records are rebuilt in this process. */
export function inProcessRunner(regen: Regenerator, flags: JobFlags): RecordRunner {
  return {
    variants: regen.variants,
    rebuild: async (records, { onRecord, verify, signal }) => {
      await regen.rebuild(records, { ...flags, verify: verify ?? false, onRecord, maxReportedFallbacks: 0, ...(signal ? { signal } : {}) });
    },
    close: () => regen.close(),
  };
}
