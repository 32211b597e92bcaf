/** Streams a manifest (any iterable or async iterable of records) into a BullMQ queue in `addBulk` batches. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobsOptions, Queue } from 'bullmq';
import { AbortedError, ConfigError } from '../../errors.js';
import type { ThumbRecord } from '../../types.js';
import { jobIdFor } from './job-id.js';
import { doneSlots, MAX_INDEX, summaryKeys } from './report-summary.js';

/** The data of one rethumb job. */
export interface RebuildJobData {
  record: ThumbRecord;
  /** The record's position in the manifest (0-based): its bit in the queue's running report. */
  index?: number;
}

export interface EnqueueManifestOptions {
  /**
   * Jobs per `addBulk` call (one Redis round trip each).
   * @default 500 — large enough that a million records is 2 000 round trips, small enough that a batch is a few hundred KB.
   */
  batchSize?: number;
  /** The job name. @default 'rebuild' */
  jobName?: string;
  /**
   * Options for every job. `jobId` is always the record's (see `jobIdFor`).
   * @default { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: false }
   *   — a worker folds each result into the queue's running report before its job completes,
   *   so completed jobs are removed at once (Redis stays small at a million records); failed
   *   jobs are kept for `collectReport`'s `failed` list.
   */
  jobOptions?: Omit<JobsOptions, 'jobId'>;
  /**
   * Most jobs waiting in the queue at once: past it, enqueuing waits for workers to take jobs
   * (it then runs alongside them, and resolves when the last record is queued). Each queued job
   * costs Redis about 1 KB (`npm run bench`), so a million queued records hold ~1 GB.
   * @default Infinity — everything is queued at once, as before; set e.g. 50_000 for ~50 MB.
   */
  maxQueued?: number;
  /** Stop enqueuing; batches already added stay. */
  signal?: AbortSignal;
}

const DEFAULT_JOB_OPTIONS: JobsOptions = Object.freeze({
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: false,
});

/**
 * Adds one job per record, `batchSize` at a time, reading the manifest lazily (so a million
 * records never sit in memory). Resolves with the number of records read. A record already
 * queued (same key) is not added twice: BullMQ ignores an id it holds; a record already done
 * (folded into the queue's running report) is skipped, so enqueuing the same manifest again
 * after a crash adds only what is left. One manifest per queue (a record's index is its
 * position in the manifest): a different manifest in a queue that already reported on one is
 * refused with `RETHUMB_CONFIG` — use a new queue, or `queue.obliterate()` the old one.
 */
export async function enqueueManifest(
  queue: Queue,
  records: Iterable<ThumbRecord> | AsyncIterable<ThumbRecord>,
  options: EnqueueManifestOptions = {},
): Promise<number> {
  const { batchSize = 500, jobName = 'rebuild', jobOptions, signal, maxQueued = Number.POSITIVE_INFINITY } = options;
  if (!(maxQueued === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxQueued) && maxQueued >= 1))) throw new ConfigError('maxQueued', 'an integer ≥ 1 or Infinity', maxQueued);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new ConfigError('batchSize', 'an integer from 1 to 10000', batchSize);
  if (typeof jobName !== 'string' || jobName.length === 0) throw new ConfigError('jobName', 'a non-empty string', jobName);
  const opts = { ...DEFAULT_JOB_OPTIONS, ...jobOptions };
  const keys = summaryKeys(queue.qualifiedName);
  let batch: Array<{ name: string; data: Required<RebuildJobData>; opts: JobsOptions }> = [];
  let count = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const jobs = batch;
    batch = [];
    const slots = await doneSlots(await queue.client, keys, jobs.map((job) => ({ index: job.data.index, jobId: job.opts.jobId as string })));
    const other = slots.indexOf('other');
    if (other >= 0) {
      const index = jobs[other]?.data.index;
      throw new ConfigError('queue', `a queue for this manifest only: record ${index} of its report is another record's (a different manifest was enqueued here; use a new queue or obliterate this one)`, queue.name);
    }
    const left = jobs.filter((_, i) => slots[i] === 'free');
    if (left.length === 0) return;
    // Back-pressure: Redis holds at most about `maxQueued` waiting jobs (checked every 200 ms).
    while (maxQueued !== Number.POSITIVE_INFINITY && (await queue.count()) + left.length > Math.max(maxQueued, left.length)) {
      await sleep(200, undefined, signal ? { signal } : {}).catch(() => {
        throw new AbortedError(signal?.reason);
      });
    }
    await queue.addBulk(left);
  };
  for await (const record of records) {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    if (count > MAX_INDEX) throw new ConfigError('records', `at most ${MAX_INDEX + 1} records per queue`, count + 1);
    batch.push({ name: jobName, data: { record, index: count }, opts: { ...opts, jobId: jobIdFor(record) } });
    count += 1;
    if (batch.length >= batchSize) await flush();
  }
  if (signal?.aborted) throw new AbortedError(signal.reason);
  await flush();
  return count;
}
