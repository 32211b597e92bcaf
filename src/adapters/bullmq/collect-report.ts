/** Reads a queue's running report (folded by its workers) into one rebuild report, with the same shape and counts as `rebuild()`. */
import type { Queue } from 'bullmq';
import { ConfigError } from '../../errors.js';
import type { RebuildReport } from '../../regenerator/rebuild-types.js';
import type { ThumbRecord } from '../../types.js';
import type { RebuildJobData } from './enqueue-manifest.js';
import { readFallbacks, readSummary, summaryKeys } from './report-summary.js';

/** A job that failed for good (out of attempts): its record was not rebuilt. */
export interface FailedJob {
  jobId: string;
  record: ThumbRecord | undefined;
  /** BullMQ's `failedReason`. */
  reason: string;
}

export interface QueueReport {
  /** Every finished record's result, folded once each: equal to a single-process `rebuild()` of the same records. */
  report: RebuildReport;
  /** Jobs that failed for good. */
  failed: FailedJob[];
  /** Jobs not finished yet (waiting, active, delayed, prioritized): non-zero means the report is partial. */
  pending: number;
}

export interface CollectReportOptions {
  /** As in `rebuild()`; at most what the workers kept (their `maxReportedFallbacks`). @default 10_000 */
  maxReportedFallbacks?: number;
  /** Entries read per Redis call. @default 1_000 */
  pageSize?: number;
}

/**
 * Reads the queue's running report (what its workers folded, whether or not their jobs were
 * removed), its failed jobs (paged) and how many are pending, and makes one report.
 */
export async function collectReport(queue: Queue, options: CollectReportOptions = {}): Promise<QueueReport> {
  const pageSize = options.pageSize ?? 1_000;
  const maxReported = options.maxReportedFallbacks ?? 10_000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new ConfigError('pageSize', 'an integer ≥ 1', pageSize);
  if (!Number.isSafeInteger(maxReported) || maxReported < 0) throw new ConfigError('maxReportedFallbacks', 'an integer ≥ 0', maxReported);
  const client = await queue.client;
  const keys = summaryKeys(queue.qualifiedName);
  const summary = await readSummary(client, keys);
  const { fallbacks, stored } = await readFallbacks(client, keys, maxReported, pageSize);
  const failed: FailedJob[] = [];
  for (let start = 0; ; start += pageSize) {
    const jobs = await queue.getJobs(['failed'], start, start + pageSize - 1, true);
    for (const job of jobs) failed.push({ jobId: String(job.id), record: (job.data as RebuildJobData | undefined)?.record, reason: job.failedReason });
    if (jobs.length < pageSize) break;
  }
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
  const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
  // Wall time across workers: first job started to last job finished.
  const { startedAt, finishedAt } = summary;
  const wall = startedAt !== undefined && finishedAt !== undefined && finishedAt >= startedAt ? finishedAt - startedAt : 0;
  const report: RebuildReport = {
    done: summary.total,
    total: summary.total,
    counts: summary.counts,
    bytesDownloaded: summary.bytesDownloaded,
    bytesWritten: summary.bytesWritten,
    fallbacks,
    fallbacksDropped: summary.fallbacksDropped + (stored - fallbacks.length),
    durationMs: wall,
    elapsedMs: wall,
    aborted: pending > 0,
  };
  return { report, failed, pending };
}
