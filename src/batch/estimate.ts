/**
 * `estimate`: run a real sample of a manifest, spread evenly over it (every k-th record), at
 * the job's own settings, and predict the whole job from the manifest's size (see
 * `predict-job.ts`). The sample is real work: its thumbnails are written to the store, so the
 * job that follows does not redo them.
 */
import { DEFAULTS, type RegeneratorOptions } from '../options.js';
import { createRegenerator } from '../regenerator/regenerator.js';
import type { RecordOutcome } from '../regenerator/rebuild-types.js';
import type { ThumbRecord } from '../types.js';
import { FallbackReasons, type FallbackReasonCounts } from './fallback-reasons.js';
import type { ManifestFormat, ManifestProblem } from './manifest-types.js';
import { predictJob, type JobPrediction, type SampleObservation } from './predict-job.js';
import { readManifest } from './read-manifest.js';

export interface EstimateOptions {
  /** A manifest file path (stdin cannot be read twice). */
  manifest: string;
  manifestFormat?: ManifestFormat;
  regenerator: RegeneratorOptions;
  /**
   * Records to run for real.
   * @default 200 — ten times the default concurrency, so the sample reaches a steady state.
   */
  sample?: number;
  /** @default true */
  onlyMissing?: boolean;
  /** @default false */
  retryDegraded?: boolean;
  signal?: AbortSignal;
  onProblem?: (problem: ManifestProblem) => void;
  /** Called after each sampled record. */
  onSampleProgress?: (done: number, of: number) => void;
}

export interface EstimateReport extends JobPrediction {
  /** Outcomes in the sample. */
  sampleCounts: Readonly<Record<RecordOutcome, number>>;
  /** The sample's fallbacks per reason, most frequent first, with the hosts behind each. */
  fallbackReasons: FallbackReasonCounts;
  sampleDurationMs: number;
  /** Concurrency the sample ran at (and the prediction is for). */
  concurrency: number;
}

export async function estimateJob(options: EstimateOptions): Promise<EstimateReport> {
  const sampleSize = options.sample ?? 200;
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new RangeError(`Expected \`sample\` to be an integer ≥ 1, got ${sampleSize}`);
  const read = (onProblem?: (p: ManifestProblem) => void) =>
    readManifest(options.manifest, {
      ...(options.manifestFormat ? { format: options.manifestFormat } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProblem ? { onProblem } : {}),
    });

  let total = 0;
  for await (const _ of read(options.onProblem)) total += 1;
  const picks = sampleIndices(total, sampleSize);

  async function* sample(): AsyncGenerator<ThumbRecord> {
    let next = 0;
    for await (const entry of read()) {
      if (next >= picks.length) return;
      if (entry.index === picks[next]) {
        next += 1;
        yield entry.record;
      }
    }
  }

  const regen = createRegenerator(options.regenerator);
  const observations: SampleObservation[] = [];
  const reasons = new FallbackReasons();
  const started = performance.now();
  try {
    const report = await regen.rebuild(sample(), {
      onlyMissing: options.onlyMissing ?? true,
      retryDegraded: options.retryDegraded ?? false,
      maxReportedFallbacks: 0,
      ...(options.signal ? { signal: options.signal } : {}),
      onRecord: (result) => {
        observations.push({ atMs: performance.now() - started, bytesDownloaded: result.bytesDownloaded, bytesWritten: result.bytesWritten });
        if (result.outcome === 'derived' || result.outcome === 'placeholder') reasons.add(result.reason, result.failures);
        options.onSampleProgress?.(observations.length, picks.length);
      },
    });
    const sampleDurationMs = performance.now() - started;
    return {
      ...predictJob(total, observations, sampleDurationMs),
      sampleCounts: report.counts,
      fallbackReasons: reasons.toJSON(),
      sampleDurationMs,
      concurrency: options.regenerator.concurrency ?? DEFAULTS.concurrency,
    };
  } finally {
    await regen.close();
  }
}

/** `size` indices spread evenly over `0 … total-1` (the middle of each of `size` equal strata). */
export function sampleIndices(total: number, size: number): number[] {
  if (total <= size) return Array.from({ length: total }, (_, i) => i);
  const step = total / size;
  return Array.from({ length: size }, (_, i) => Math.floor((i + 0.5) * step));
}
