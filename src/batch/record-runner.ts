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

/** `regen.rebuild()` as a runner: the records are rebuilt in this process. */
export function inProcessRunner(regen: Regenerator, flags: Required<RebuildFlags>): RecordRunner {
  return {
    variants: regen.variants,
    rebuild: async (records, { onRecord, signal }) => {
      await regen.rebuild(records, { ...flags, onRecord, maxReportedFallbacks: 0, ...(signal ? { signal } : {}) });
    },
    close: () => regen.close(),
  };
}
