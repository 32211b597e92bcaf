import type { RebuildReport } from '../../src/index.js';

/** The parts of a report that must not depend on how the work was spread (workers, processes, order). */
export function comparable(report: RebuildReport) {
  return {
    total: report.total,
    counts: report.counts,
    bytesDownloaded: report.bytesDownloaded,
    bytesWritten: report.bytesWritten,
    fallbacksDropped: report.fallbacksDropped,
    aborted: report.aborted,
    fallbacks: report.fallbacks
      .map((f) => ({ key: f.key, outcome: f.outcome, reason: f.reason, written: f.written, failures: f.failures?.map((x) => [x.source, x.code, x.status]) }))
      .sort((a, b) => a.key.localeCompare(b.key)),
  };
}
