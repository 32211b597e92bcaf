/** Folds the results of a queue's finished jobs into one rebuild report, with the same tally as `rebuild()`. */
import type { Queue } from 'bullmq';
import { RebuildTally } from '../../regenerator/rebuild-tally.js';
import type { RebuildReport, RecordResult } from '../../regenerator/rebuild-types.js';
import type { ThumbRecord } from '../../types.js';
import type { RebuildJobData } from './enqueue-manifest.js';

/** A job that failed for good (out of attempts): its record was not rebuilt. */
export interface FailedJob {
  jobId: string;
  record: ThumbRecord | undefined;
  /** BullMQ's `failedReason`. */
  reason: string;
}

export interface QueueReport {
  /** Every completed job's result, folded by `RebuildTally`: equal to a single-process `rebuild()` of the same records. */
  report: RebuildReport;
  /** Jobs that failed for good. */
  failed: FailedJob[];
  /** Jobs not finished yet (waiting, active, delayed, prioritized): non-zero means the report is partial. */
  pending: number;
}

export interface CollectReportOptions {
  /** As in `rebuild()`. @default 10_000 */
  maxReportedFallbacks?: number;
  /** Jobs read per Redis call. @default 1_000 */
  pageSize?: number;
}

/** Reads every completed and failed job of `queue` (paged) and makes one report. */
export async function collectReport(queue: Queue, options: CollectReportOptions = {}): Promise<QueueReport> {
  const pageSize = options.pageSize ?? 1_000;
  const tally = new RebuildTally({ maxReportedFallbacks: options.maxReportedFallbacks ?? 10_000 });
  let earliest = Number.POSITIVE_INFINITY;
  let latest = 0;
  for (let start = 0; ; start += pageSize) {
    const jobs = await queue.getJobs(['completed'], start, start + pageSize - 1, true);
    for (const job of jobs) {
      const result = job.returnvalue as RecordResult | undefined;
      if (!result || typeof result !== 'object') continue;
      tally.add(result);
      earliest = Math.min(earliest, job.processedOn ?? job.timestamp);
      latest = Math.max(latest, job.finishedOn ?? 0);
    }
    if (jobs.length < pageSize) break;
  }
  const failed: FailedJob[] = [];
  for (let start = 0; ; start += pageSize) {
    const jobs = await queue.getJobs(['failed'], start, start + pageSize - 1, true);
    for (const job of jobs) failed.push({ jobId: String(job.id), record: (job.data as RebuildJobData | undefined)?.record, reason: job.failedReason });
    if (jobs.length < pageSize) break;
  }
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const report = tally.report(pending > 0);
  // Wall time across workers: first job started to last job finished.
  const wall = Number.isFinite(earliest) && latest >= earliest ? latest - earliest : 0;
  return { report: { ...report, durationMs: wall, elapsedMs: wall }, failed, pending };
}
