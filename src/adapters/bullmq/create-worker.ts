/**
 * A BullMQ worker that runs rethumb's rebuild pipeline on one record per job: the same
 * `rebuildRecord()` as a single-process `rebuild()`, so the combined report is the same.
 */
import { Worker, type ConnectionOptions, type Job, type RateLimiterOptions, type WorkerOptions } from 'bullmq';
import { ConfigError } from '../../errors.js';
import type { Regenerator } from '../../regenerator/regenerator.js';
import type { RecordResult } from '../../regenerator/rebuild-types.js';
import type { RebuildJobData } from './enqueue-manifest.js';

/** The regenerator method a worker uses. */
export type WorkerRegenerator = Pick<Regenerator, 'rebuildRecord'>;

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
  /** Called after each record (for progress bars and logs). A throwing callback does not fail the job. */
  onResult?: (result: RecordResult, job: Job<RebuildJobData, RecordResult>) => void;
  /** Further BullMQ worker options (`lockDuration`, `stalledInterval`, `maxStalledCount`, …). */
  workerOptions?: Omit<WorkerOptions, 'connection' | 'concurrency' | 'limiter'>;
}

/**
 * Start a worker. Each job's return value is the record's `RecordResult` (what `collectReport`
 * folds); its progress goes 0 → 100. A record that falls back is a completed job with a
 * `placeholder` or `derived` outcome, not a failure: a job fails only when the worker is
 * closing or the regenerator is closed, and BullMQ retries it (`attempts`).
 * A worker that dies mid-job loses its lock; BullMQ's stalled-job check gives the job to
 * another worker, and the job id (the record's) keeps it one job.
 */
export function createWorker(regen: WorkerRegenerator, options: CreateWorkerOptions): Worker<RebuildJobData, RecordResult> {
  if (regen === null || typeof regen !== 'object' || typeof regen.rebuildRecord !== 'function') throw new ConfigError('regen', 'a regenerator', regen);
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
  const { connection, queueName, concurrency = 20, limiter, onlyMissing = true, retryDegraded = false, onResult, workerOptions } = options;
  if (typeof queueName !== 'string' || queueName.length === 0) throw new ConfigError('queueName', 'a non-empty string', queueName);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1_000) throw new ConfigError('concurrency', 'an integer from 1 to 1000', concurrency);
  return new Worker<RebuildJobData, RecordResult>(
    queueName,
    async (job, _token, signal) => {
      await job.updateProgress(0);
      const result = await regen.rebuildRecord(job.data.record, { onlyMissing, retryDegraded, signal });
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
}
