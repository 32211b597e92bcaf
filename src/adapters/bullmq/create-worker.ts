/**
 * A BullMQ worker that runs rethumb's rebuild pipeline on one record per job: the same
 * `rebuildRecord()` as a single-process `rebuild()`, so the combined report is the same.
 */
import { Worker, type ConnectionOptions, type Job, type RateLimiterOptions, type WorkerOptions } from 'bullmq';
import { ConfigError, StoreError } from '../../errors.js';
import type { Regenerator } from '../../regenerator/regenerator.js';
import type { RecordResult } from '../../regenerator/rebuild-types.js';
import type { RebuildJobData } from './enqueue-manifest.js';
import { foldResult, summaryKeys } from './report-summary.js';

/** The regenerator a worker uses: its `rebuildRecord`, and what its politeness is shared across. */
export type WorkerRegenerator = Pick<Regenerator, 'rebuildRecord'> & { readonly coordination?: string };

export interface CreateWorkerOptions {
  /** Redis connection (ioredis options or instance). */
  connection: ConnectionOptions;
  /** The queue `enqueueManifest` filled. */
  queueName: string;
  /**
   * Jobs run at once by this worker. Each job is one record; the regenerator's own `concurrency`
   * still caps downloads across them.
   * @default 20 — rethumb's download cap: fewer leaves it idle, more only queues inside it.
   */
  concurrency?: number;
  /** BullMQ's rate limiter across all workers of the queue, e.g. `{ max: 50, duration: 1000 }`. @default none */
  limiter?: RateLimiterOptions;
  /** As in `rebuild()`. @default true */
  onlyMissing?: boolean;
  /** As in `rebuild()`. @default false */
  retryDegraded?: boolean;
  /**
   * Fallen-back results kept in the queue's running report (the rest are counted in
   * `fallbacksDropped`), so the report stays bounded in Redis.
   * @default 10_000 — as in `rebuild()`.
   */
  maxReportedFallbacks?: number;
  /**
   * Refuse a regenerator whose politeness is its own process's (`regen.coordination ===
   * 'process'`): N such workers would give each origin N times `perHost.concurrency`, N ramps
   * and N probes. Set false only for a single worker process on purpose.
   * @default true
   */
  requireFleetCoordination?: boolean;
  /** Called after each record (for progress bars and logs). A throwing callback does not fail the job. */
  onResult?: (result: RecordResult, job: Job<RebuildJobData, RecordResult>) => void;
  /** Further BullMQ worker options (`lockDuration`, `stalledInterval`, `maxStalledCount`, …). */
  workerOptions?: Omit<WorkerOptions, 'connection' | 'concurrency' | 'limiter'>;
}

/**
 * Start a worker. Each job folds the record's `RecordResult` into the queue's running report
 * (once per record, even when a stalled job runs again) and returns it; its progress goes
 * 0 → 100. A record that falls back is a completed job with a `placeholder` or `derived`
 * outcome, not a failure: a job fails only when the worker is closing, the regenerator is
 * closed or the store refused to write its thumbnails, and BullMQ retries it (`attempts`).
 * A worker that dies mid-job loses its lock; BullMQ's stalled-job check gives the job to
 * another worker, and the job id (the record's) keeps it one job; the permits it held to
 * origins expire with their leases.
 */
export function createWorker(regen: WorkerRegenerator, options: CreateWorkerOptions): Worker<RebuildJobData, RecordResult> {
  if (regen === null || typeof regen !== 'object' || typeof regen.rebuildRecord !== 'function') throw new ConfigError('regen', 'a regenerator', regen);
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
  const {
    connection,
    queueName,
    concurrency = 20,
    limiter,
    onlyMissing = true,
    retryDegraded = false,
    maxReportedFallbacks = 10_000,
    requireFleetCoordination = true,
    onResult,
    workerOptions,
  } = options;
  if (typeof queueName !== 'string' || queueName.length === 0) throw new ConfigError('queueName', 'a non-empty string', queueName);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1_000) throw new ConfigError('concurrency', 'an integer from 1 to 1000', concurrency);
  if (!Number.isSafeInteger(maxReportedFallbacks) || maxReportedFallbacks < 0) throw new ConfigError('maxReportedFallbacks', 'an integer ≥ 0', maxReportedFallbacks);
  if (requireFleetCoordination && regen.coordination === 'process') {
    throw new ConfigError(
      'regen',
      'a regenerator whose politeness the fleet shares: `createRegenerator({ …, coordination: createFleetCoordination({ connection }) })` (or `requireFleetCoordination: false` for a single worker process)',
      'a regenerator with in-process coordination',
    );
  }
  const worker: Worker<RebuildJobData, RecordResult> = new Worker<RebuildJobData, RecordResult>(
    queueName,
    async (job, _token, signal) => {
      await job.updateProgress(0);
      const result = await regen.rebuildRecord(job.data.record, { onlyMissing, retryDegraded, signal });
      // Rendered but not stored (a full disk, a read-only mount …): not rebuilt, so not folded;
      // the job fails and BullMQ retries it (`attempts`), then lists it in `failed`.
      if (result.unstored) throw new StoreError(`The store refused to write ${result.unstored.variants} thumbnail(s) of ${result.key}: ${result.unstored.message}`);
      // Folded before the job completes (and is removed): a crash in between only repeats a fold that counts once.
      await foldResult(await worker.client, summaryKeys(worker.qualifiedName), {
        index: Number.isSafeInteger(job.data.index) ? job.data.index : undefined,
        jobId: String(job.id),
        result,
        maxFallbacks: maxReportedFallbacks,
        startedAt: job.processedOn ?? job.timestamp,
        finishedAt: Date.now(),
      });
      await job.updateProgress(100);
      try {
        onResult?.(result, job);
      } catch (error) {
        process.emitWarning(`rethumb/bullmq: onResult threw: ${error instanceof Error ? error.message : String(error)}`);
      }
      return result;
    },
    { ...workerOptions, connection, concurrency, ...(limiter ? { limiter } : {}) },
  );
  return worker;
}
